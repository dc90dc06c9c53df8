-- Register a number for onboarding in one atomic step.
-- KEYS: out_sms_numbers, blacklist_mobiles, onboard_hash:{m}, onboard_clients:{m},
--       client rate key, number rate key, sms_monitor_queue, redis_ready
-- ARGV: mobile, new hash, hash TTL (s), client id, now (ms), clients TTL (s),
--       client limit per minute, number limit per hour, monitor event JSON
-- Returns {outcome, hash, ttl_ms}; outcome one of ok, not_ready, blacklisted, verified,
-- rate_limited. not_ready: Redis lost its data and the sets are not rebuilt yet.
-- A still-pending hash is returned again rather than replaced, so a retried register
-- never invalidates an SMS the person may already have sent.
local mobile = ARGV[1]
if redis.call('EXISTS', KEYS[8]) == 0 then
  return {'not_ready', '', 0}
end
if redis.call('SISMEMBER', KEYS[2], mobile) == 1 then
  return {'blacklisted', '', 0}
end
if redis.call('SISMEMBER', KEYS[1], mobile) == 1 then
  return {'verified', '', 0}
end
local function over(key, limit, window)
  local count = redis.call('INCR', key)
  if count == 1 then
    redis.call('EXPIRE', key, window)
  end
  if count > tonumber(limit) then
    return redis.call('PTTL', key)
  end
  return false
end
local wait = over(KEYS[5], ARGV[7], 60) or over(KEYS[6], ARGV[8], 3600)
if wait then
  return {'rate_limited', '', wait}
end
local hash = redis.call('GET', KEYS[3])
local ttl_ms
if hash then
  ttl_ms = redis.call('PTTL', KEYS[3])
else
  hash = ARGV[2]
  ttl_ms = tonumber(ARGV[3]) * 1000
  redis.call('SET', KEYS[3], hash, 'PX', ttl_ms)
  redis.call('LPUSH', KEYS[7], ARGV[9])
end
redis.call('HSET', KEYS[4], ARGV[4], tonumber(ARGV[5]) + ttl_ms)
redis.call('EXPIRE', KEYS[4], ARGV[6])
return {'ok', hash, ttl_ms}
