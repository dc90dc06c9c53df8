-- Finish the rebuild ARGV[1] of a credential mirror, atomically: replay onto the new copy
-- (KEYS[1]) the changes recorded while it was read from PostgreSQL (KEYS[2]: field ->
-- "+value" or "-"), put the copy in place of the live HASH (KEYS[3]) and drop the rebuild
-- from the index of rebuilds under way (KEYS[4]). A revocation made during the rebuild
-- thus stays revoked, and a key created during it stays known.
local changes = redis.call('HGETALL', KEYS[2])
for i = 1, #changes, 2 do
  local field, change = changes[i], changes[i + 1]
  if string.sub(change, 1, 1) == '+' then
    redis.call('HSET', KEYS[1], field, string.sub(change, 2))
  else
    redis.call('HDEL', KEYS[1], field)
  end
end
redis.call('RENAME', KEYS[1], KEYS[3])
redis.call('PERSIST', KEYS[3]) -- the copy had a TTL so an abandoned rebuild cleans itself up
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[4], ARGV[1])
return #changes / 2
