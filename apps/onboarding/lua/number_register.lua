-- Open a registration of a number for onboarding, in one atomic step.
-- KEYS: 1 redis_ready, 2 blacklist_mobiles, 3 out_sms_numbers, 4 onboard_hash:{m},
--       5 onboard_regs:{m}, 6 client rate, 7 client+number rate, 8 number rate,
--       9 sms_monitor_queue, 10 event_feed
-- ARGV: 1 mobile, 2 new hash, 3 hash TTL (s), 4 registration JSON without expires_at
--       (an object missing its closing brace), 5 client id, 6 client limit per minute,
--       7 client+number limit per hour, 8 number limit per hour, 9 monitor event JSON,
--       10 max pending per number, 11 how long ended registrations are kept (ms),
--       12-14 the event history's (history_lua_args), 15 registration.opened data JSON
--       without expires_at (an object missing its closing brace, as ARGV 4)
-- Returns {outcome, expires_at_ms, limit, remaining, reset_ms, retry_after_ms}: outcome is
-- ok, rate_limited, not_ready, blacklisted or verified; the rate fields describe the
-- client's budget, or the limit that refused the call.
--
-- The client's budget is spent before anything about the number is read, so a client
-- over its limit learns nothing (not even whether a number is verified or blacklisted).
-- The per-number limits are per client first, so one client cannot lock a number out
-- for the others; the ceiling across clients is much higher.
--!include core/lua/rate_limit.lua
--!include core/lua/iso_utc.lua
--!include core/lua/event_append.lua
local now = clock_ms()
local budget = rate_limit(KEYS[6], ARGV[6], 60000, now)
local function reply(outcome, expires_at, limit)
  return {outcome, expires_at, limit[2], limit[3], limit[5], limit[4]}
end
if budget[1] == 0 then
  return reply('rate_limited', 0, budget)
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply('not_ready', 0, budget)
end
for _, limit in ipairs({rate_limit(KEYS[7], ARGV[7], 3600000, now), rate_limit(KEYS[8], ARGV[8], 3600000, now)}) do
  if limit[1] == 0 then
    return reply('rate_limited', 0, limit)
  end
end
local mobile = ARGV[1]
if redis.call('SISMEMBER', KEYS[2], mobile) == 1 then
  return reply('blacklisted', 0, budget)
end
if redis.call('SISMEMBER', KEYS[3], mobile) == 1 then
  return reply('verified', 0, budget)
end

-- The number's registrations: drop those ended long ago, end the oldest pending one
-- when the number is full (the caller's own oldest first, so that one client cannot
-- push out everybody else's), and keep at most as many ended ones as pending.
local keep_ms = tonumber(ARGV[11])
local max_pending = tonumber(ARGV[10])
local pending, ended = {}, {}
local newest = 0
local entries = redis.call('HGETALL', KEYS[5])
for i = 1, #entries, 2 do
  local reg = cjson.decode(entries[i + 1])
  newest = math.max(newest, reg.expires_at)
  local ended_at = reg.state and (reg.ended_at or reg.expires_at) or reg.expires_at
  if ended_at + keep_ms < now then
    redis.call('HDEL', KEYS[5], entries[i])
  elseif reg.state or reg.expires_at <= now then
    table.insert(ended, {entries[i], ended_at})
  else
    table.insert(pending, {entries[i], reg})
  end
end
if #pending >= max_pending then
  local victim
  for _, item in ipairs(pending) do
    local mine = item[2].client_id == ARGV[5]
    local best_mine = victim and victim[2].client_id == ARGV[5]
    if not victim or (mine and not best_mine) or (mine == best_mine and item[2].expires_at < victim[2].expires_at) then
      victim = item
    end
  end
  victim[2].state = 'expired'
  victim[2].ended_at = now
  redis.call('HSET', KEYS[5], victim[1], cjson.encode(victim[2]))
  table.insert(ended, {victim[1], now})
  -- Its client is told, with no word of who pushed it out.
  event_append(KEYS[10], ARGV[12], ARGV[13], ARGV[14], 'registration.expired', cjson.encode({
    registration_id = victim[2].registration_id, mobile_number = mobile, reason = 'replaced'
  }), {victim[2].client_id})
end
table.sort(ended, function(a, b) return a[2] < b[2] end)
for i = 1, #ended - max_pending do
  redis.call('HDEL', KEYS[5], ended[i][1])
end

local ttl_ms = tonumber(ARGV[3]) * 1000
-- Strictly after every earlier registration, so "the newest" is never a tie.
local expires_at = math.max(now + ttl_ms, newest + 1)
redis.call('HSET', KEYS[5], ARGV[2], ARGV[4] .. ',"expires_at":' .. string.format('%.0f', expires_at) .. '}')
-- Kept a day past the newest registration's expiry, so its client can still read "expired".
if redis.call('PTTL', KEYS[5]) < ttl_ms + keep_ms then
  redis.call('PEXPIRE', KEYS[5], ttl_ms + keep_ms)
end
redis.call('SET', KEYS[4], ARGV[2], 'PX', ttl_ms)
redis.call('LPUSH', KEYS[9], ARGV[9])
event_append(KEYS[10], ARGV[12], ARGV[13], ARGV[14], 'registration.opened',
  ARGV[15] .. ',"expires_at":"' .. iso_utc(expires_at) .. '"}', {ARGV[5]})
return reply('ok', expires_at, budget)
