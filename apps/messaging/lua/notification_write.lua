-- Write a queued notification: its live status record, its place in the queue, its
-- first change for PostgreSQL, and the mark that wakes a sender. Included by every
-- script that queues one (notification_enqueue.lua, the OTP request), so a new field
-- of the status record is added here once.
-- Returns 1 when the wake-up mark was newly set (the caller wakes a sender), else 0.
local function notification_write(status_key, queue_key, events_key, kick_key, fields)
  redis.call('HSET', status_key, 'client_id', fields.client_id, 'channel', fields.channel,
    'status', 'queued', 'attempts', 0, 'last_error', '', 'gateway_id', '', 'provider_id', '',
    'seq', 1, 'created_at', fields.now, 'updated_at', fields.now)
  if fields.otp_key then
    -- The one-time code this SMS carries: notification_change.lua ends it if the SMS fails.
    redis.call('HSET', status_key, 'otp_key', fields.otp_key)
  end
  redis.call('EXPIRE', status_key, fields.ttl)
  redis.call('LPUSH', queue_key, fields.record)
  redis.call('LPUSH', events_key, fields.event)
  local kick = redis.call('SET', kick_key, '1', 'NX', 'PX', fields.kick_ttl_ms)
  return kick and 1 or 0
end
