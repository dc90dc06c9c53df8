-- A sending gateway failed: skip it for a cool-down that doubles with each failure in a row.
-- KEYS: 1 gateway_failures:{id}, 2 gateway_cooldown:{id}
-- ARGV: 1 base cool-down (ms), 2 longest cool-down (ms), 3 failures TTL (s)
-- Returns the cool-down set (ms).
local failures = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local cooldown = math.min(tonumber(ARGV[1]) * 2 ^ math.min(failures - 1, 20), tonumber(ARGV[2]))
cooldown = math.max(1, math.floor(cooldown))
redis.call('SET', KEYS[2], failures, 'PX', cooldown)
return cooldown
