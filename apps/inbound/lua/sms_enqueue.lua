-- De-duplicate and queue an inbound SMS in one step.
-- KEYS: 1 dedupe mark, 2 inbound queue, 3 kick mark, 4 event_feed
-- ARGV: 1 sms uuid, 2 event JSON, 3 dedupe TTL (s), 4 kick TTL (ms),
--       5-7 the event history's (history_lua_args), 8 sms.received data JSON
-- Returns {created (1/0), uuid of the first delivery, kick (1/0)}.
--
-- sms.received goes to the operators' feed only: no client is known until the pipeline
-- reads the registrations. A repeated delivery makes no event.
--!include core/lua/event_append.lua
local first = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3])
if not first then
  return {0, redis.call('GET', KEYS[1]), 0}
end
redis.call('LPUSH', KEYS[2], ARGV[2])
event_append(KEYS[4], ARGV[5], ARGV[6], ARGV[7], 'sms.received', ARGV[8], {})
local kick = redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4])
return {1, ARGV[1], kick and 1 or 0}
