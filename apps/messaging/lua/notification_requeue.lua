-- An operator's retry: put a failed notification back on the queue, atomically.
-- KEYS: 1 notification:{id}, 2 notification_queue, 3 notification_events, 4 kick mark
-- ARGV: 1 client id, 2 channel, 3 the PostgreSQL row's seq, 4 created_at (epoch ms),
--       5 record JSON, 6 queued event JSON (its seq and at are set here), 7 status TTL (s),
--       8 kick TTL (ms)
-- Returns {requeued (1/0), seq, kick}.
--
-- Only a failed notification, or one whose live record expired (the row says failed):
-- two operators retrying at once must not queue it twice, and a notification that is
-- queued, sending or sent already must not be sent again. The new seq passes both the
-- live record's and the row's, so the store applies the change over everything before.
local current = redis.call('HMGET', KEYS[1], 'status', 'seq')
if current[1] and current[1] ~= 'failed' then
  return {0, tonumber(current[2]) or 0, 0}
end
local seq = math.max(tonumber(current[2]) or 0, tonumber(ARGV[3])) + 1
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if not current[1] then
  redis.call('HSET', KEYS[1], 'client_id', ARGV[1], 'channel', ARGV[2], 'created_at', ARGV[4])
end
-- No gateway nor provider id: the next attempt starts from the route's first gateway,
-- and a stale provider id would mislead the sender's recovery after a crash.
redis.call('HSET', KEYS[1], 'status', 'queued', 'attempts', 0, 'last_error', '',
  'gateway_id', '', 'provider_id', '', 'seq', seq, 'updated_at', now)
-- A fresh lifetime either way: a record about to expire would vanish mid-send.
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('LPUSH', KEYS[2], ARGV[5])
local event = cjson.decode(ARGV[6])
event.seq = seq
event.at = now / 1000
redis.call('LPUSH', KEYS[3], cjson.encode(event))
local kick = redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[8])
return {1, seq, kick and 1 or 0}
