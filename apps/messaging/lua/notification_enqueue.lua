-- Queue a notification in one atomic step.
-- KEYS: 1 redis_ready, 2 idempotency key (or a placeholder when none), 3 client rate,
--       4 client+destination rate, 5 send_routes, 6 blacklist_mobiles,
--       7 notification:{id}, 8 notification_queue, 9 notification_events, 10 kick mark
-- ARGV: 1 notification id, 2 has idempotency key (1/0), 3 client limit per minute,
--       4 destination limit per hour, 5 route field of the destination's country,
--       6 route field for any country, 7 blacklist member ('' for email), 8 record JSON,
--       9 queued event JSON, 10 client id, 11 channel, 12 status TTL (s),
--       13 idempotency TTL (s), 14 kick TTL (ms)
-- Returns {outcome, id, limit, remaining, reset_ms, retry_after_ms, kick}: outcome is
-- queued, duplicate (id is the first one's), rate_limited, not_ready, no_route or
-- blacklisted.
--
-- A repeated idempotency key is answered before any budget is spent: a client retrying
-- a request that timed out must get its first answer, not a 429.
--!include core/lua/rate_limit.lua
--!include messaging/lua/notification_write.lua
local function reply(outcome, id, limit, kick)
  return {outcome, id, limit[2], limit[3], limit[5], limit[4], kick or 0}
end
local none = {1, 0, 0, 0, 0}
if ARGV[2] == '1' then
  local first = redis.call('GET', KEYS[2])
  if first then
    return reply('duplicate', first, none)
  end
end
local now = clock_ms()
local budget = rate_limit(KEYS[3], ARGV[3], 60000, now)
if budget[1] == 0 then
  return reply('rate_limited', '', budget)
end
local per_destination = rate_limit(KEYS[4], ARGV[4], 3600000, now)
if per_destination[1] == 0 then
  return reply('rate_limited', '', per_destination)
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply('not_ready', '', budget)
end
if redis.call('HEXISTS', KEYS[5], ARGV[5]) == 0 and redis.call('HEXISTS', KEYS[5], ARGV[6]) == 0 then
  return reply('no_route', '', budget)
end
if ARGV[7] ~= '' and redis.call('SISMEMBER', KEYS[6], ARGV[7]) == 1 then
  return reply('blacklisted', '', budget)
end
local kick = notification_write(KEYS[7], KEYS[8], KEYS[9], KEYS[10], {
  client_id = ARGV[10], channel = ARGV[11], now = now, ttl = ARGV[12],
  record = ARGV[8], event = ARGV[9], kick_ttl_ms = ARGV[14]
})
if ARGV[2] == '1' then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[13])
end
return reply('queued', ARGV[1], budget, kick)
