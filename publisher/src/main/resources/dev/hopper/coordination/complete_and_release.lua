-- Hopper: record messages as completed and release their keys' locks if the caller still holds them, each
-- completion in one atomic step; a batch of N completions in one round trip.
--
-- For completion i (1-based), with k = 2 * (i - 1) and a = 3 * (i - 1):
-- KEYS[k+1] lock key   <ns>lock:<key> (for a completion without a key: the done key again, untouched)
-- KEYS[k+2] done key   <ns>done:<messageId>
-- ARGV[a+1] the lock value the caller holds: "<token>:<owner>", or '' when the completion has no key
-- ARGV[a+2] done-marker time to live in milliseconds
-- ARGV[a+3] done-marker value (the owner, for whoever inspects the key)
--
-- Returns one integer per completion: 1 when the lock was released, 0 when the caller no longer held it (or had
-- no key); the marker is written either way: the handler did finish.

local replies = {}
for i = 1, #KEYS / 2 do
  local k = 2 * (i - 1)
  local a = 3 * (i - 1)
  local released = 0
  if ARGV[a + 1] ~= '' and redis.call('GET', KEYS[k + 1]) == ARGV[a + 1] then
    redis.call('DEL', KEYS[k + 1])
    released = 1
  end
  redis.call('SET', KEYS[k + 2], ARGV[a + 3], 'PX', ARGV[a + 2])
  replies[i] = released
end
return replies
