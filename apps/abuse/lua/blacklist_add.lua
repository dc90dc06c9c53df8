-- Blacklist numbers: add each to the set and, only when it was not listed before,
-- drop its pending onboarding hash, queue the action for PostgreSQL and append a
-- blacklist.added event to the operators' feed.
-- KEYS: 1 blacklist_mobiles, 2 blacklist_queue, 3 event_feed
-- ARGV: 1-3 event history arguments (client-stream prefix, feed length, client length),
--       then quadruples of (mobile, onboard_hash key, action JSON, event JSON)
-- Returns the number of numbers newly blacklisted.
--!include core/lua/event_append.lua
local added = 0
for i = 4, #ARGV, 4 do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('DEL', ARGV[i + 1])
    redis.call('LPUSH', KEYS[2], ARGV[i + 2])
    event_append(KEYS[3], ARGV[1], ARGV[2], ARGV[3], 'blacklist.added', ARGV[i + 3], {})
    added = added + 1
  end
end
return added
