-- Hopper: check a task's revision and take its key's lock, in one atomic step (one round trip per task).
--
-- KEYS[1] revision key   <ns>rev:<key>    (integer; missing = 0)
-- KEYS[2] lock key       <ns>lock:<key>   ("<token>:<owner>", expires after the lease)
-- KEYS[3] token key      <ns>token:<key>  (last fencing token issued for the key)
-- ARGV[1] the message's revision, or '' when the task is not revisioned
-- ARGV[2] owner
-- ARGV[3] lease in milliseconds
-- ARGV[4] '1' to lock a superseded task anyway (policy refresh), '0' to answer superseded (policy skip)
-- ARGV[5] time to live of the token key in milliseconds
--
-- Returns {1, token, currentRevision} acquired | {2, remainingLeaseMs} busy | {3, currentRevision} superseded.
-- Numbers cross into Redis only as strings built here or by Redis: Lua 5.1 would print big numbers as 1.7e+15.

local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[1] ~= '' and ARGV[4] ~= '1' and tonumber(ARGV[1]) < current then
  return {3, current}
end

local remaining = redis.call('PTTL', KEYS[2])
if remaining ~= -2 then
  -- held (-1 would be a lock written without expiry by something other than Hopper: busy as well)
  return {2, remaining}
end

-- The token is max(last token + 1, server time in microseconds). While the token key exists it only grows by
-- the INCR; when Redis lost it (restart without persistence, failover to a lagging replica, TTL) the clock
-- floor puts the next token above every token issued before, which were themselves at most their issue time.
local now = redis.call('TIME')
local floor = now[1] .. string.format('%06d', tonumber(now[2]))
local token = redis.call('INCR', KEYS[3])
if token < tonumber(floor) then
  redis.call('SET', KEYS[3], floor)
  token = tonumber(floor)
end
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('SET', KEYS[2], string.format('%.0f', token) .. ':' .. ARGV[2], 'PX', ARGV[3])
return {1, token, current}
