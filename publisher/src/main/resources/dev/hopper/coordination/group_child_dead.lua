-- Hopper: a child (or the join) of a group was dead-lettered (FollowUpStore.childDead).
--
-- KEYS[1..4] the group's keys, as in group_open.lua
-- ARGV[1] child or join id, ARGV[2] dead reason
--
-- Returns 1 when recorded, 0 when ignored (no group, not a member, or already done).

if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local join_id = redis.call('HGET', KEYS[1], 'join_id')
if join_id ~= '' and join_id == ARGV[1] then
  if redis.call('HGET', KEYS[1], 'join_state') == 'done' then
    return 0
  end
elseif redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 or redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
local retention = redis.call('HGET', KEYS[1], 'retention_ms')
for k = 1, 4 do
  redis.call('PEXPIRE', KEYS[k], retention)
end
return 1
