-- Blacklist numbers: add each to the set and, only when it was not listed before,
-- drop its pending onboarding hash and queue the action for PostgreSQL.
-- KEYS: blacklist_mobiles, blacklist_queue
-- ARGV: triples of (mobile, onboard_hash key, action JSON)
-- Returns the number of numbers newly blacklisted.
local added = 0
for i = 1, #ARGV, 3 do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('DEL', ARGV[i + 1])
    redis.call('LPUSH', KEYS[2], ARGV[i + 2])
    added = added + 1
  end
end
return added
