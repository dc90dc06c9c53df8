-- Check a one-time code, in one atomic step.
-- KEYS: 1 client rate, 2 client+number rate, 3 client+IP rate (a placeholder without an
--       IP), 4 otp:attempts, 5 otp record, 6 otp_safe_numbers, 7 prefix conversion,
--       8 prefix pending, 9 sms_monitor_queue, 10 metrics:otp, 11 event_feed
-- ARGV: 1 client limit per minute, 2 number limit per hour, 3 has an IP (1/0), 4 IP limit
--       per hour, 5 max attempts, 6 attempts TTL (s), 7 HMAC of the code given, 8 mobile,
--       9 monitor event JSON (its status and reason are set here), 10 bucket (ms),
--       11 conversion TTL (s), 12-14 the event history's (history_lua_args), 15 client id
-- Returns {outcome, value, limit, remaining, reset_ms, retry_after_ms}: outcome is
-- verified, wrong (value: attempts left), blocked (value: ms until the attempts key
-- expires; also the failure that reaches the limit), none (no code alive) or rate_limited.
--
-- The block is checked before the code: once blocked, even the right code is refused, or
-- a guesser would learn from the answer which of its guesses was right. The code is
-- compared in constant time (the HMACs, never the code, reach Redis).
--
-- Each monitor event is also the client's history event: otp.verified, otp.failed (with
-- its reason and the attempts left) or otp.blocked. None carries the code nor its HMAC.
--!include core/lua/rate_limit.lua
--!include core/lua/event_append.lua
local now = clock_ms()
local function reply(outcome, value, limit)
  return {outcome, value, limit[2], limit[3], limit[5], limit[4]}
end
local history_types = {otp_verified = 'otp.verified', otp_failed = 'otp.failed', otp_blocked = 'otp.blocked'}
-- attempts_left: only for otp_failed (nil leaves the field out).
local function event(status, reason, counter, attempts_left)
  local e = cjson.decode(ARGV[9])
  e.status = status
  e.reason = reason
  redis.call('LPUSH', KEYS[9], cjson.encode(e))
  redis.call('HINCRBY', KEYS[10], counter, 1)
  local data = {mobile_number = ARGV[8], attempts_left = attempts_left}
  if status ~= 'otp_verified' then
    data.reason = reason
  end
  event_append(KEYS[11], ARGV[12], ARGV[13], ARGV[14], history_types[status], cjson.encode(data), {ARGV[15]})
end
local function same(a, b)
  if #a ~= #b then
    return false
  end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end

local budget = rate_limit(KEYS[1], ARGV[1], 60000, now)
if budget[1] == 0 then
  return reply('rate_limited', 0, budget)
end
local limits = {rate_limit(KEYS[2], ARGV[2], 3600000, now)}
if ARGV[3] == '1' then
  table.insert(limits, rate_limit(KEYS[3], ARGV[4], 3600000, now))
end
for _, limit in ipairs(limits) do
  if limit[1] == 0 then
    return reply('rate_limited', 0, limit)
  end
end
local max_attempts = tonumber(ARGV[5])
local failed = tonumber(redis.call('GET', KEYS[4]) or '0')
if failed >= max_attempts then
  event('otp_blocked', 'max_attempts', 'blocked')
  return reply('blocked', math.max(redis.call('PTTL', KEYS[4]), 1000), budget)
end
local raw = redis.call('GET', KEYS[5])
if not raw then
  event('otp_failed', 'no_code', 'expired', max_attempts - failed)
  return reply('none', 0, budget)
end
local bucket = math.floor(now / tonumber(ARGV[10]))
local safe = redis.call('SISMEMBER', KEYS[6], ARGV[8]) == 1
if same(cjson.decode(raw).otp_hash, ARGV[7]) then
  redis.call('DEL', KEYS[5], KEYS[4])
  if not safe then
    redis.call('HINCRBY', KEYS[7], 'v:' .. bucket, 1)
    redis.call('EXPIRE', KEYS[7], ARGV[11])
    redis.call('ZREM', KEYS[8], ARGV[8])
  end
  event('otp_verified', '', 'verified')
  return reply('verified', 0, budget)
end
failed = redis.call('INCR', KEYS[4])
if failed == 1 then
  redis.call('EXPIRE', KEYS[4], ARGV[6])
end
if failed >= max_attempts then
  -- The code is spent: a new one may be requested once the block ends.
  redis.call('DEL', KEYS[5])
  event('otp_blocked', 'max_attempts', 'blocked')
  return reply('blocked', math.max(redis.call('PTTL', KEYS[4]), 1000), budget)
end
event('otp_failed', 'wrong_code', 'failed', max_attempts - failed)
return reply('wrong', max_attempts - failed, budget)
