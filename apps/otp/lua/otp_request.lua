-- Open a one-time code for a number and queue the SMS that carries it, in one atomic step.
-- KEYS: 1 redis_ready, 2 client rate, 3 client+number rate, 4 client+IP rate (a placeholder
--       without an IP), 5 blacklist_mobiles, 6 otp:attempts, 7 otp record, 8 prefix block,
--       9 otp_safe_numbers, 10 prefix rate, 11 prefix conversion, 12 prefix pending,
--       13 otp_blocked_prefixes, 14 send_routes, 15 notification:{id}, 16 notification_queue,
--       17 notification_events, 18 notification_kick, 19 sms_monitor_queue, 20 metrics:otp,
--       21 event_feed
-- ARGV: 1 mobile, 2 client id, 3 client limit per minute, 4 number limit per hour,
--       5 has an IP (1/0), 6 IP limit per hour, 7 max attempts, 8 OTP record JSON,
--       9 OTP TTL (s), 10 prefix limit, 11 prefix window (ms), 12 conversion min requests,
--       13 conversion min percent, 14 cool-down (ms), 15 route field of the country,
--       16 route field of any country, 17 notification id, 18 notification record JSON,
--       19 queued event JSON, 20 notification TTL (s), 21 kick TTL (ms), 22 monitor event
--       JSON (otp_requested), 23 blocked-prefix member, 24 bucket (ms), 25 buckets,
--       26 conversion TTL (s), 27 country permitted (1/0), 28-30 the event history's
--       (history_lua_args)
-- Returns {outcome, wait_ms, limit, remaining, reset_ms, retry_after_ms, kick}: outcome is
-- ok, rate_limited, not_ready, country, blacklisted, no_route, max_attempts (too many
-- failed checks), active (a code is alive: wait_ms is its remaining life), prefix_blocked,
-- prefix_velocity or prefix_conversion (wait_ms: until the prefix is open again).
--
-- As in number_register.lua, the client's budget is spent before anything about the
-- number is read. The notification is written here, with the keys and fields of
-- messaging/lua/notification_enqueue.lua, rather than by a second call to
-- notification_enqueue: then no code can exist without its SMS queued, nor an SMS
-- without its code, and the request costs one round trip.
--
-- Each monitor event is also the client's history event (otp.requested with the
-- notification id, otp.blocked with its reason); neither carries the code nor its HMAC.
--!include core/lua/rate_limit.lua
--!include messaging/lua/notification_write.lua
--!include core/lua/event_append.lua
local now = clock_ms()
local function reply(outcome, wait_ms, limit, kick)
  return {outcome, wait_ms, limit[2], limit[3], limit[5], limit[4], kick or 0}
end
local function event(status, reason)
  local e = cjson.decode(ARGV[22])
  e.status = status
  e.reason = reason
  redis.call('LPUSH', KEYS[19], cjson.encode(e))
  local requested = status == 'otp_requested'
  redis.call('HINCRBY', KEYS[20], requested and 'requested' or 'blocked', 1)
  local kind, data = 'otp.blocked', {mobile_number = ARGV[1], reason = reason}
  if requested then
    kind, data = 'otp.requested', {mobile_number = ARGV[1], notification_id = ARGV[17]}
  end
  event_append(KEYS[21], ARGV[28], ARGV[29], ARGV[30], kind, cjson.encode(data), {ARGV[2]})
end
local function refuse(outcome, wait_ms, limit)
  event('otp_blocked', outcome)
  return reply(outcome, wait_ms, limit)
end

local budget = rate_limit(KEYS[2], ARGV[3], 60000, now)
if budget[1] == 0 then
  return reply('rate_limited', 0, budget)
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply('not_ready', 0, budget)
end
local limits = {rate_limit(KEYS[3], ARGV[4], 3600000, now)}
if ARGV[5] == '1' then
  table.insert(limits, rate_limit(KEYS[4], ARGV[6], 3600000, now))
end
for _, limit in ipairs(limits) do
  if limit[1] == 0 then
    return reply('rate_limited', 0, limit)
  end
end
local mobile = ARGV[1]
if ARGV[27] ~= '1' then
  return refuse('country', 0, budget)
end
if redis.call('SISMEMBER', KEYS[5], mobile) == 1 then
  return refuse('blacklisted', 0, budget)
end
if redis.call('HEXISTS', KEYS[14], ARGV[15]) == 0 and redis.call('HEXISTS', KEYS[14], ARGV[16]) == 0 then
  return refuse('no_route', 0, budget)
end
if tonumber(redis.call('GET', KEYS[6]) or '0') >= tonumber(ARGV[7]) then
  return refuse('max_attempts', math.max(redis.call('PTTL', KEYS[6]), 1000), budget)
end
local alive = redis.call('PTTL', KEYS[7])
if alive > 0 then
  return reply('active', alive, budget)
end

-- The SMS-pumping guard; a safe-listed number is neither limited nor counted.
local safe = redis.call('SISMEMBER', KEYS[9], mobile) == 1
local bucket = math.floor(now / tonumber(ARGV[24]))
if not safe then
  local blocked_for = redis.call('PTTL', KEYS[8])
  if blocked_for > 0 then
    return refuse('prefix_blocked', blocked_for, budget)
  end
  local velocity = rate_limit(KEYS[10], ARGV[10], tonumber(ARGV[11]), now)
  if velocity[1] == 0 then
    return refuse('prefix_velocity', velocity[4], velocity)
  end
  -- Conversion over the last hour, of the codes that had their chance: those verified or
  -- expired; the ones still alive (the pending ZSET) may yet be verified.
  redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', now)
  local requested, verified = 0, 0
  local counts = redis.call('HGETALL', KEYS[11])
  for i = 1, #counts, 2 do
    local kind, at = string.match(counts[i], '^(%a):(%d+)$')
    at = tonumber(at)
    if at and at > bucket - tonumber(ARGV[25]) then
      if kind == 'r' then requested = requested + tonumber(counts[i + 1]) else verified = verified + tonumber(counts[i + 1]) end
    else
      redis.call('HDEL', KEYS[11], counts[i])
    end
  end
  local settled = requested - redis.call('ZCARD', KEYS[12])
  if settled >= tonumber(ARGV[12]) and verified * 100 < tonumber(ARGV[13]) * settled then
    local cooldown = tonumber(ARGV[14])
    redis.call('SET', KEYS[8], settled .. ':' .. verified, 'PX', cooldown)
    redis.call('ZREMRANGEBYSCORE', KEYS[13], '-inf', now)  -- ended blocks, so the list stays short
    redis.call('ZADD', KEYS[13], now + cooldown, ARGV[23])
    -- Counted afresh after the cool-down: the figures that tripped it must not trip it again.
    redis.call('DEL', KEYS[11], KEYS[12])
    return refuse('prefix_conversion', cooldown, budget)
  end
end

-- The code, its SMS (written as every queued notification is) and the figures.
local ttl = tonumber(ARGV[9])
redis.call('SET', KEYS[7], ARGV[8], 'EX', ttl)
local kick = notification_write(KEYS[15], KEYS[16], KEYS[17], KEYS[18], {
  client_id = ARGV[2], channel = 'sms', now = now, ttl = ARGV[20],
  record = ARGV[18], event = ARGV[19], kick_ttl_ms = ARGV[21], otp_key = KEYS[7]
})
if not safe then
  redis.call('HINCRBY', KEYS[11], 'r:' .. bucket, 1)
  redis.call('EXPIRE', KEYS[11], ARGV[26])
  redis.call('ZADD', KEYS[12], now + ttl * 1000, mobile)
  redis.call('EXPIRE', KEYS[12], ARGV[26])
end
event('otp_requested', '')
return reply('ok', ttl * 1000, budget, kick)
