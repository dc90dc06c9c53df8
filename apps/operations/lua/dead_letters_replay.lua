-- Move up to ARGV[1] of the oldest dead letters (KEYS[1], newest at the head) back onto
-- their queue (KEYS[2], whose producers LPUSH), one LMOVE each: an item is in exactly
-- one of the two lists at every moment, so a replay never loses or duplicates it.
-- Returns the number moved.
local moved = 0
for _ = 1, tonumber(ARGV[1]) do
  if not redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') then
    break
  end
  moved = moved + 1
end
return moved
