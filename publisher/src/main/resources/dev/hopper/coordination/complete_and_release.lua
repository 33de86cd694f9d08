-- Hopper: record a message as completed and release its key's lock if the caller still holds it, atomically.
--
-- KEYS[1] lock key   <ns>lock:<key>
-- KEYS[2] done key   <ns>done:<messageId>
-- ARGV[1] the lock value the caller holds: "<token>:<owner>"
-- ARGV[2] done-marker time to live in milliseconds
-- ARGV[3] done-marker value (the owner, for whoever inspects the key)
--
-- Returns 1 when the lock was released, 0 when the caller no longer held it (the marker is written either way:
-- the handler did finish).

local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  released = 1
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return released
