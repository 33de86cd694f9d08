-- Hopper: extend a key's lock lease only if the caller holds it (compare-on-owner).
--
-- KEYS[1] lock key <ns>lock:<key>
-- ARGV[1] the lock value the caller holds: "<token>:<owner>"
-- ARGV[2] new lease in milliseconds, counted from now
--
-- Returns 1 when extended, 0 when the lock was lost (expired, taken over, or released).

if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
