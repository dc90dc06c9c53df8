-- One page of the abuse sweep's full scan: SCAN the counters and read them here, so only
-- those at or over the threshold leave Redis. Read-only; it walks the keyspace, so it
-- names no KEYS. Read by the client (SCAN, then MGET of the page) a million counters cost
-- it 0.26 s of CPU and 30 MB of keys each way; this way only the hits travel.
-- ARGV: 1 cursor, 2 MATCH pattern, 3 SCAN COUNT, 4 threshold
-- Returns {next cursor, counters scanned, key, count, key, count, ...}.
local reply = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local page, threshold = reply[2], tonumber(ARGV[4])
local call, tonumber, unpack = redis.call, tonumber, unpack
local size = #page
local out, n = {reply[1], size}, 2
-- MGET in slices: unpack() of a whole page could overflow Lua's stack.
for i = 1, size, 1000 do
  local last = math.min(i + 999, size)
  local counts = call('MGET', unpack(page, i, last))
  for j = 1, #counts do
    local count = counts[j]
    if count and (tonumber(count) or -math.huge) >= threshold then
      out[n + 1], out[n + 2] = page[i + j - 1], count
      n = n + 2
    end
  end
end
return out
