-- Hopper: release a key's lock only if the caller holds it (compare-on-owner).
--
-- KEYS[1] lock key <ns>lock:<key>
-- ARGV[1] the lock value the caller holds: "<token>:<owner>"
--
-- Returns 1 when released, 0 when the lock was not the caller's (expired, taken over, or already released).

if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
