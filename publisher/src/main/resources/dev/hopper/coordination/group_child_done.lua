-- Hopper: one child of a parent succeeded (FollowUpStore.completeChild), atomically: count it once, keep its result,
-- clear a dead record, write its done-marker, and say whether the join is due.
--
-- KEYS[1..4] the group's keys, as in group_open.lua
-- KEYS[5] the child's done-marker <ns>done:<child id>
-- ARGV[1] child id (or the join's id: then the join is recorded as done)
-- ARGV[2] "=" .. result JSON, or "-" for no result
-- ARGV[3] done-marker time to live in milliseconds
-- ARGV[4] done-marker value
-- ARGV[5] the most result bytes one group may hold
--
-- Returns {"untracked", why} | {"too-much", total bytes} (nothing written) | {"counted", done, expected, duplicate}
-- | {"join-due", duplicate, join id, queue, type, key, payload, result 1, ..., result n} (results in child order,
-- each "=" .. JSON or "-").

if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[5], ARGV[4], 'PX', ARGV[3])
  return {'untracked', 'no-group'}
end
local group = KEYS[1]
local retention = redis.call('HGET', group, 'retention_ms')
local expected = tonumber(redis.call('HGET', group, 'expected'))
local join_id = redis.call('HGET', group, 'join_id')
local function touch()
  for k = 1, 4 do
    redis.call('PEXPIRE', KEYS[k], retention)
  end
end

if join_id ~= '' and join_id == ARGV[1] then
  local duplicate = '0'
  if redis.call('HGET', group, 'join_state') == 'done' then
    duplicate = '1'
  end
  redis.call('HSET', group, 'join_state', 'done')
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('SET', KEYS[5], ARGV[4], 'PX', ARGV[3])
  touch()
  return {'counted', tostring(redis.call('HLEN', KEYS[3])), tostring(expected), duplicate}
end

if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  redis.call('SET', KEYS[5], ARGV[4], 'PX', ARGV[3])
  return {'untracked', 'not-a-member'}
end

local duplicate = '1'
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then
  duplicate = '0'
  local total = tonumber(redis.call('HGET', group, 'result_bytes')) + string.len(ARGV[2]) - 1
  if total > tonumber(ARGV[5]) then
    return {'too-much', tostring(total)}
  end
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
  redis.call('HSET', group, 'result_bytes', tostring(total))
end
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('SET', KEYS[5], ARGV[4], 'PX', ARGV[3])
touch()

local done = redis.call('HLEN', KEYS[3])
if done >= expected and redis.call('HGET', group, 'join_state') == 'waiting' then
  local reply = {'join-due', duplicate, join_id, redis.call('HGET', group, 'join_queue'),
    redis.call('HGET', group, 'join_type'), redis.call('HGET', group, 'join_key'),
    redis.call('HGET', group, 'join_payload')}
  local members = redis.call('HGETALL', KEYS[2])
  local results = {}
  for i = 1, #members, 2 do
    local index = tonumber(string.match(members[i + 1], '^(%d+):'))
    results[index + 1] = redis.call('HGET', KEYS[3], members[i])
  end
  for i = 1, expected do
    reply[#reply + 1] = results[i]
  end
  return reply
end
return {'counted', tostring(done), tostring(expected), duplicate}
