-- Move the notifications whose next attempt is due back onto the queue, atomically.
-- KEYS: 1 notification_retry, 2 notification_queue
-- ARGV: 1 now (epoch ms), 2 at most this many
-- Returns how many were moved. They go to the end the sender takes from first: they
-- have waited longest.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, item in ipairs(due) do
  redis.call('ZREM', KEYS[1], item)
  redis.call('RPUSH', KEYS[2], item)
end
return #due
