-- Hopper: record a parent's follow-up plan (FollowUpStore.openGroup), unless the parent recorded one before.
--
-- KEYS[1] group hash     <ns>group:<parent>          fingerprint, expected, retention_ms, result_bytes, join_*
-- KEYS[2] members hash   <ns>group-members:<parent>  child id -> "<index>:<queue length>:<queue>:<type>"
-- KEYS[3] results hash   <ns>group-results:<parent>  child id -> "=" .. result JSON, or "-" (done, no result)
-- KEYS[4] dead hash      <ns>group-dead:<parent>     child or join id -> dead reason
-- ARGV[1] plan fingerprint
-- ARGV[2] retention in milliseconds: every key of the group expires this long after the group's last write
-- ARGV[3] number of children
-- ARGV[4] join id ("" for no join), ARGV[5] join queue, ARGV[6] join type, ARGV[7] join key ("" for none),
-- ARGV[8] join payload
-- ARGV[9..] pairs: child id, member value
--
-- Returns 0 opened, 1 already open with the same plan, 2 already open with another plan (the first is kept).

if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'fingerprint') == ARGV[1] then
    return 1
  end
  return 2
end
local join_state = 'none'
if ARGV[4] ~= '' then
  join_state = 'waiting'
  if ARGV[3] == '0' then
    -- Nothing to wait for: the parent publishes its join together with its (zero) follow-ups.
    join_state = 'published'
  end
end
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'expected', ARGV[3], 'retention_ms', ARGV[2],
  'result_bytes', '0', 'join_state', join_state, 'join_id', ARGV[4], 'join_queue', ARGV[5], 'join_type', ARGV[6],
  'join_key', ARGV[7], 'join_payload', ARGV[8])
-- In slices: unpack() of tens of thousands of values would overflow Lua's C stack.
local i = 9
while i <= #ARGV do
  local last = math.min(i + 999, #ARGV)
  redis.call('HSET', KEYS[2], unpack(ARGV, i, last))
  i = last + 1
end
for k = 1, 4 do
  redis.call('PEXPIRE', KEYS[k], ARGV[2])
end
return 0
