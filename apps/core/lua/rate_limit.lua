-- Rate limiting by GCRA (the generic cell rate algorithm), shared by every script that
-- limits a request: a script includes this file with a line `--!include core/lua/rate_limit.lua`.
--
-- GCRA keeps one number per key, the "theoretical arrival time" (TAT, in ms): a limit of
-- N per period lets a burst of N through, then one every period/N. Unlike a fixed window
-- it has no edge where 2N pass in a moment, and unlike a sliding log it stores one value,
-- not one entry per request. The key lives only as long as it matters (PX to the TAT).
--
-- rate_limit(key, limit, period_ms, now) -> {allowed (1/0), limit, remaining, retry_after_ms, reset_ms}
-- reset_ms is the wait until the whole budget is back (the RateLimit-Reset header).

local function clock_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function rate_limit(key, limit, period_ms, now)
  limit = tonumber(limit)
  local interval = period_ms / limit
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then
    tat = now
  end
  local new_tat = tat + interval
  local allow_at = new_tat - period_ms
  if allow_at > now then
    return {0, limit, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
  end
  -- At least 1 ms: with a huge limit the interval vanishes below a double's precision at now.
  redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
  local remaining = math.floor((now + period_ms - new_tat) / interval)
  return {1, limit, remaining, 0, math.ceil(new_tat - now)}
end
