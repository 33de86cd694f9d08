-- Hopper: worker side of per-key coalescing, "claim", in one atomic step. The rules are those of
-- CoalescingRules.claim (Java), line by line.
--
-- KEYS[1] state hash (layout in coalesce_schedule.lua)
-- ARGV[1] message id of the delivered task
-- ARGV[2] now, epoch milliseconds of the caller's clock
-- ARGV[3] max delay in milliseconds
-- ARGV[4] retention in milliseconds
--
-- Returns {1, payload, absorbed, again (0|1)} claimed | {2, due} not due yet | {3} nothing pending (another
-- message carries the run, or a run already covered it) | {4} forgotten (no state: expired or lost).

local id = ARGV[1]
local now = tonumber(ARGV[2])
local maxDelay = tonumber(ARGV[3])
local retention = tonumber(ARGV[4])

local function ms(n)
  return string.format('%.0f', n)
end

local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
if exp <= now then
  redis.call('DEL', KEYS[1])
  return {4}
end

local state = redis.call('HMGET', KEYS[1], 'pid', 'due', 'payload', 'absorbed', 'cid')
if state[1] == id then
  local due = tonumber(state[2])
  if now < due then
    return {2, due}
  end
  local payload = state[3] or ''
  local absorbed = state[4] or '0'
  redis.call('HDEL', KEYS[1], 'pid', 'due', 'payload', 'absorbed')
  local at = now + maxDelay + retention
  redis.call('HSET', KEYS[1], 'last', ms(now), 'cid', id, 'cpayload', payload, 'cabsorbed', absorbed,
      'exp', ms(at))
  redis.call('PEXPIRE', KEYS[1], ms(at - now))
  return {1, payload, tonumber(absorbed), 0}
end
if state[5] == id then
  local claimed = redis.call('HMGET', KEYS[1], 'cpayload', 'cabsorbed')
  if claimed[1] then
    return {1, claimed[1], tonumber(claimed[2] or '0'), 1}
  end
end
return {3}
