-- Lift the blacklisting of numbers: remove each from the set, queue the remove action for
-- PostgreSQL whether or not Redis still listed it (so PostgreSQL follows even when Redis
-- had lost the number), and append a blacklist.removed event only for those it listed.
-- KEYS: 1 blacklist_mobiles, 2 blacklist_queue, 3 event_feed
-- ARGV: 1-3 event history arguments (client-stream prefix, feed length, client length),
--       then triples of (mobile, action JSON, event JSON)
-- Returns the number of numbers that were listed.
--!include core/lua/event_append.lua
local removed = 0
for i = 4, #ARGV, 3 do
  redis.call('LPUSH', KEYS[2], ARGV[i + 1])
  if redis.call('SREM', KEYS[1], ARGV[i]) == 1 then
    event_append(KEYS[3], ARGV[1], ARGV[2], ARGV[3], 'blacklist.removed', ARGV[i + 2], {})
    removed = removed + 1
  end
end
return removed
