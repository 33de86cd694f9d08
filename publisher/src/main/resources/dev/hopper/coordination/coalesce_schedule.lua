-- Hopper: publish side of per-key coalescing, "schedule or absorb", in one atomic step. The rules are those of
-- CoalescingRules.schedule (Java), line by line.
--
-- KEYS[1] state hash   <ns>coalesce:<queue length>:<queue>:<type length>:<type>:<key>
--         fields: pid (pending run's message id), due (ms), last (last run's start, ms), payload, absorbed,
--                 cid, cpayload, cabsorbed (the last claim), exp (expiry, ms on the callers' clock)
-- ARGV[1] message id
-- ARGV[2] payload
-- ARGV[3] debounce in milliseconds
-- ARGV[4] max delay in milliseconds
-- ARGV[5] now, epoch milliseconds of the caller's clock
-- ARGV[6] stale-after in milliseconds (an unclaimed pending run this long past due is presumed lost)
-- ARGV[7] retention in milliseconds (how long the state outlives the last moment it can matter)
--
-- Returns {1, due} publish now | {2, due} publish delayed until due | {3, pendingId, due, absorbed} absorbed.
-- Times stay below 2^53, so Lua's doubles hold them exactly; they are written back with %.0f, never tostring
-- (Lua 5.1 would print 1.7e+12).

local id = ARGV[1]
local debounce = tonumber(ARGV[3])
local maxDelay = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local stale = tonumber(ARGV[6])
local retention = tonumber(ARGV[7])

local function ms(n)
  return string.format('%.0f', n)
end

local function expire(pendingDue)
  local horizon = now + maxDelay
  if pendingDue >= 0 and pendingDue + stale > horizon then
    horizon = pendingDue + stale
  end
  local at = horizon + retention
  redis.call('HSET', KEYS[1], 'exp', ms(at))
  redis.call('PEXPIRE', KEYS[1], ms(at - now))
end

local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
if exp <= now then
  redis.call('DEL', KEYS[1])
end

local state = redis.call('HMGET', KEYS[1], 'pid', 'due', 'last', 'absorbed')
local pid = state[1]
local last = tonumber(state[3] or '-1')

if pid then
  local due = tonumber(state[2])
  if pid == id then
    -- a retried publish of the pending run's own message: answer as the first time, count nothing
    if due <= now then
      return {1, due}
    end
    return {2, due}
  end
  local absorbed = tonumber(state[4] or '0') + 1
  if now - due > stale then
    -- presumed lost: this task carries the run from now on, with every payload the lost one absorbed
    redis.call('HSET', KEYS[1], 'pid', id, 'due', ms(now), 'payload', ARGV[2], 'absorbed', ms(absorbed))
    expire(now)
    return {1, now}
  end
  if last >= 0 then
    local moved = math.min(due + debounce, last + maxDelay)
    if moved > due then
      due = moved
    end
  end
  redis.call('HSET', KEYS[1], 'due', ms(due), 'payload', ARGV[2], 'absorbed', ms(absorbed))
  expire(due)
  return {3, pid, due, absorbed}
end

if last < 0 or now - last >= debounce then
  redis.call('HSET', KEYS[1], 'pid', id, 'due', ms(now), 'payload', ARGV[2], 'absorbed', '0')
  expire(now)
  return {1, now}
end
local due = last + debounce
redis.call('HSET', KEYS[1], 'pid', id, 'due', ms(due), 'payload', ARGV[2], 'absorbed', '0')
expire(due)
return {2, due}
