-- Hopper: check tasks' revisions and take their keys' locks, each request in one atomic step; a batch of N
-- requests (the deliveries that arrived together) in one round trip.
--
-- For request i (1-based), with k = 3 * (i - 1) and a = 5 * (i - 1):
-- KEYS[k+1] revision key   <ns>rev:<key>    (integer; missing = 0)
-- KEYS[k+2] lock key       <ns>lock:<key>   ("<token>:<owner>", expires after the lease)
-- KEYS[k+3] token key      <ns>token:<key>  (last fencing token issued for the key)
-- ARGV[a+1] the message's revision, or '' when the task is not revisioned
-- ARGV[a+2] owner
-- ARGV[a+3] lease in milliseconds
-- ARGV[a+4] '1' to lock a superseded task anyway (policy refresh), '0' to answer superseded (policy skip)
-- ARGV[a+5] time to live of the token key in milliseconds
--
-- Returns one reply per request, in order: {1, token, currentRevision} acquired |
-- {2, remainingLeaseMs, holderToken} busy (holderToken a string of digits, '0' for a lock Hopper did not write) |
-- {3, currentRevision} superseded. Requests are handled in order, so a later request for a key an earlier one
-- just locked is busy. Numbers cross into Redis only as strings built here or by Redis: Lua 5.1 would print big
-- numbers as 1.7e+15.

-- Redis calls per request: acquired 4 (GET revision, GET token, SET lock NX, SET token with its TTL), busy 5 (the
-- first three, then PTTL and GET of the holder), superseded 1; TIME once per batch, at its first lock attempt. Each
-- redis.call costs about as much as the command it runs, so the common path makes as few as it can: SET NX both
-- tests and takes the lock (it was PTTL, TIME, INCR, SET, PEXPIRE, SET: 7 calls per acquisition).

local function microseconds(time)
  -- Lua 5.1 numbers are doubles: microseconds since 1970 (about 1.8e15) are exact below 2^53 (9e15).
  return tonumber(time[1]) * 1000000 + tonumber(time[2])
end

local floor = nil -- the server's time in microseconds, read once per batch: the script runs atomically anyway

local function check_and_lock(revKey, lockKey, tokenKey, revision, owner, leaseMs, lockIfSuperseded, tokenTtlMs)
  local current = tonumber(redis.call('GET', revKey) or '0')
  if revision ~= '' and lockIfSuperseded ~= '1' and tonumber(revision) < current then
    return {3, current}
  end

  -- The token is max(last token + 1, server time in microseconds). While the token key exists it only grows; when
  -- Redis lost it (restart without persistence, failover to a lagging replica, TTL) the clock floor puts the next
  -- token above every token issued before, which were themselves at most their issue time.
  if floor == nil then
    floor = microseconds(redis.call('TIME'))
  end
  local token = tonumber(redis.call('GET', tokenKey) or '0') + 1
  if token < floor then
    token = floor
  end
  local tokenText = string.format('%.0f', token)
  if not redis.call('SET', lockKey, tokenText .. ':' .. owner, 'NX', 'PX', leaseMs) then
    -- Held (also by a lock written without expiry by something other than Hopper: PTTL -1, busy as well). The
    -- holder's token lets a waiter tell a key that changes hands (busy, but moving) from one held by a single run.
    -- The token computed above was not issued: nothing was written.
    local remaining = redis.call('PTTL', lockKey)
    local held = redis.call('GET', lockKey)
    local holder = (type(held) == 'string' and string.match(held, '^(%d+):')) or '0'
    return {2, remaining, holder}
  end
  redis.call('SET', tokenKey, tokenText, 'PX', tokenTtlMs)
  return {1, token, current}
end

local replies = {}
for i = 1, #KEYS / 3 do
  local k = 3 * (i - 1)
  local a = 5 * (i - 1)
  replies[i] = check_and_lock(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
      ARGV[a + 4], ARGV[a + 5])
end
return replies
