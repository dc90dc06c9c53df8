-- Change a notification's live status and queue the change for PostgreSQL, atomically.
-- KEYS: 1 notification:{id}, 2 notification_events, 3 metrics:notifications,
--       4 provider reference key (or a placeholder when none), 5 event_feed
-- ARGV: 1 new status, 2 who changes it ("sender" or "receipt"), 3 attempts ('' keeps),
--       4 last_error ('' keeps when ARGV[9] is 0), 5 gateway id ('' keeps),
--       6 provider message id ('' keeps), 7 metric field ('' none), 8 reference TTL (s),
--       9 set last_error even when empty (1/0), 10 notification id,
--       11-13 the event history's (history_lua_args)
-- Returns {applied (1/0), seq, client_id, channel, status now}.
--
-- Statuses only move forward: queued -> sending -> sent -> delivered, or -> failed.
-- The sender may also put a notification back to queued between attempts. A receipt
-- may only move it forward (a late "sent" after "delivered" changes nothing), and
-- nothing changes a delivered or failed notification.
--
-- An applied change to sent, delivered or failed is also a notification.<status> event
-- of the notification's client (read from the record: the caller, a receipt, may not
-- know it). Never the body: an OTP's carries the code.
--!include core/lua/event_append.lua
local announced = {sent = true, delivered = true, failed = true}
local rank = {queued = 0, sending = 1, sent = 2, delivered = 3, failed = 3}
local current = redis.call('HMGET', KEYS[1], 'status', 'client_id', 'channel', 'seq')
if not current[1] then
  return {0, 0, '', '', ''}
end
local now_status, new = current[1], ARGV[1]
local terminal = now_status == 'delivered' or now_status == 'failed'
local allowed
if terminal then
  allowed = false
elseif ARGV[2] == 'receipt' then
  allowed = rank[new] > rank[now_status]
else
  allowed = not (rank[now_status] >= 2 and rank[new] <= 2)
end
if not allowed then
  return {0, tonumber(current[4]), current[2], current[3], now_status}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'status', new, 'updated_at', now)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'attempts', ARGV[3]) end
if ARGV[4] ~= '' or ARGV[9] == '1' then redis.call('HSET', KEYS[1], 'last_error', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'gateway_id', ARGV[5]) end
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'provider_id', ARGV[6])
  redis.call('SET', KEYS[4], ARGV[10], 'EX', ARGV[8])
end
local state = redis.call('HMGET', KEYS[1], 'attempts', 'last_error', 'gateway_id', 'provider_id')
redis.call('LPUSH', KEYS[2], cjson.encode({
  v = 1, id = ARGV[10], seq = seq, status = new, at = now / 1000,
  attempts = tonumber(state[1]) or 0, last_error = state[2] or '', gateway_id = state[3] or '',
  provider_id = state[4] or ''
}))
if ARGV[7] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[7], 1) end
if announced[new] then
  event_append(KEYS[5], ARGV[11], ARGV[12], ARGV[13], 'notification.' .. new, cjson.encode({
    id = ARGV[10], channel = current[3] or '', status = new, attempts = tonumber(state[1]) or 0,
    last_error = state[2] or '', gateway_id = state[3] or ''
  }), {current[2] or ''})
end
if new == 'failed' then
  -- A one-time code whose SMS failed was received by nobody: end it (if it is still the
  -- code this SMS carried), so its client may ask for another now rather than wait out
  -- its life behind a 409.
  local otp_key = redis.call('HGET', KEYS[1], 'otp_key')
  local code = otp_key and redis.call('GET', otp_key)
  if code and cjson.decode(code).notification_id == ARGV[10] then
    redis.call('DEL', otp_key)
  end
end
return {1, seq, current[2], current[3], new}
