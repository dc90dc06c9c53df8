-- Move up to ARGV[1] of the oldest items of a LIST (KEYS[1]) into a batch LIST
-- (KEYS[3]) and record the batch in the in-flight index ZSET (KEYS[2]), atomically:
-- an item is always either waiting, or in exactly one batch until that batch is acked.
-- Producers LPUSH, so the oldest items are at the tail.
local n = tonumber(ARGV[1])
local items = redis.call('LRANGE', KEYS[1], -n, -1)
if #items == 0 then
  return items
end
redis.call('LTRIM', KEYS[1], 0, -#items - 1)
-- RPUSH in slices: unpack() of a whole large batch would overflow Lua's stack.
for i = 1, #items, 1000 do
  redis.call('RPUSH', KEYS[3], unpack(items, i, math.min(i + 999, #items)))
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return items
