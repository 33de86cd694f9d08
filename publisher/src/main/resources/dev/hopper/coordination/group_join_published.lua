-- Hopper: the join of a group was published and confirmed (FollowUpStore.joinPublished).
--
-- KEYS[1..4] the group's keys, as in group_open.lua
--
-- Returns 1 when recorded, 0 when there is no group or its join was not waiting.

if redis.call('HGET', KEYS[1], 'join_state') ~= 'waiting' then
  return 0
end
redis.call('HSET', KEYS[1], 'join_state', 'published')
local retention = redis.call('HGET', KEYS[1], 'retention_ms')
for k = 1, 4 do
  redis.call('PEXPIRE', KEYS[k], retention)
end
return 1
