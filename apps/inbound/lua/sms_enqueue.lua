-- De-duplicate and queue an inbound SMS in one step.
-- KEYS: dedupe mark, inbound queue, kick mark
-- ARGV: sms uuid, event JSON, dedupe TTL (s), kick TTL (ms)
-- Returns {created (1/0), uuid of the first delivery, kick (1/0)}.
local first = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3])
if not first then
  return {0, redis.call('GET', KEYS[1]), 0}
end
redis.call('LPUSH', KEYS[2], ARGV[2])
local kick = redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4])
return {1, ARGV[1], kick and 1 or 0}
