-- Hopper: a consistent snapshot of one group for `hopper group show` (FollowUpStore.group).
--
-- KEYS[1..4] the group's keys, as in group_open.lua
--
-- Returns {} when there is no group, else {group fields (flat HGETALL without join_payload), members (flat
-- HGETALL), done children (pairs: id, "1" with a result / "0" without), dead (flat HGETALL)}.

if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
local fields = {}
for _, name in ipairs({'expected', 'join_state', 'join_id', 'join_queue', 'join_type'}) do
  fields[#fields + 1] = name
  fields[#fields + 1] = redis.call('HGET', KEYS[1], name)
end
local done = {}
local results = redis.call('HGETALL', KEYS[3])
for i = 1, #results, 2 do
  done[#done + 1] = results[i]
  if string.sub(results[i + 1], 1, 1) == '=' then
    done[#done + 1] = '1'
  else
    done[#done + 1] = '0'
  end
end
return {fields, redis.call('HGETALL', KEYS[2]), done, redis.call('HGETALL', KEYS[4])}
