package dev.hopper.coordination;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The Redis side of {@link FollowUpStore}, for {@link RedisCoordinationStore}: each operation is one Lua script over
 * the parent's four keys (so one round trip, atomic), called on the store's connection. Stateless apart from the key
 * layout; thread-safe.
 *
 * <h2>Keys</h2>
 * For a parent id {@code P} in namespace {@code ns}, each expiring {@link GroupPlan#retention()} after the group's
 * last write (PEXPIRE on every write):
 * <ul>
 *   <li>{@code <ns>group:P}: a hash with the plan's fingerprint, the number of children, the retention, the results'
 *       byte total, and the join (state {@code none|waiting|published|done}, id, queue, type, key, payload);</li>
 *   <li>{@code <ns>group-members:P}: child id to {@code "<index>:<queue length>:<queue>:<type>"};</li>
 *   <li>{@code <ns>group-results:P}: child id to {@code "=" + result JSON}, or {@code "-"} for a child done
 *       without a result; its size is the number of children done;</li>
 *   <li>{@code <ns>group-dead:P}: child (or join) id to its dead reason.</li>
 * </ul>
 * A child's done-marker is the ordinary {@code <ns>done:<child id>}, written by the same script that counts it.
 */
final class RedisFollowUps {
    private static final LuaScript OPEN = LuaScript.load("group_open.lua");
    private static final LuaScript CHILD_DONE = LuaScript.load("group_child_done.lua");
    private static final LuaScript JOIN_PUBLISHED = LuaScript.load("group_join_published.lua");
    private static final LuaScript CHILD_DEAD = LuaScript.load("group_child_dead.lua");
    private static final LuaScript VIEW = LuaScript.load("group_view.lua");
    private static final String NO_RESULT = "-";
    private static final String RESULT_PREFIX = "=";

    private final RedisKeys keys;

    RedisFollowUps(RedisKeys keys) {
        this.keys = keys;
    }

    GroupOpening openGroup(RedisCommands<String, String> c, GroupPlan plan) {
        JoinTask join = plan.join();
        List<String> args = new ArrayList<>(8 + 2 * plan.children().size());
        args.add(plan.fingerprint());
        args.add(Long.toString(Math.max(1, plan.retention().toMillis())));
        args.add(Integer.toString(plan.children().size()));
        args.add(join == null ? "" : join.id());
        args.add(join == null ? "" : join.queue());
        args.add(join == null ? "" : join.type());
        args.add(join == null || join.key() == null ? "" : join.key());
        args.add(join == null ? "" : join.payload());
        for (int i = 0; i < plan.children().size(); i++) {
            GroupPlan.Child child = plan.children().get(i);
            args.add(child.id());
            args.add(i + ":" + child.queue().length() + ":" + child.queue() + ":" + child.type());
        }
        Long answer = RedisCoordinationStore.script(c, OPEN, ScriptOutputType.INTEGER, groupKeys(plan.parentId()),
                args.toArray(new String[0]));
        return answer == 0 ? GroupOpening.OPENED : answer == 1 ? GroupOpening.ALREADY_OPEN : GroupOpening.CONFLICT;
    }

    ChildCompletion completeChild(RedisCommands<String, String> c, String parentId, String childId,
            @Nullable String result, Duration doneTtl) {
        String[] k = groupKeys(parentId);
        String[] scriptKeys = {k[0], k[1], k[2], k[3], keys.done(childId)};
        List<Object> reply = RedisCoordinationStore.script(c, CHILD_DONE, ScriptOutputType.MULTI, scriptKeys, childId,
                result == null ? NO_RESULT : RESULT_PREFIX + result, Long.toString(Math.max(1, doneTtl.toMillis())),
                "child-of:" + parentId, Long.toString(FollowUpStore.MAX_GROUP_RESULT_BYTES));
        String status = (String) reply.get(0);
        switch (status) {
            case "untracked":
                return new ChildCompletion.Untracked("no-group".equals(reply.get(1))
                        ? "no group for parent " + parentId + " (never opened, or expired after its retention)"
                        : "the group of parent " + parentId + " does not list child " + childId);
            case "too-much":
                throw InMemoryFollowUps.tooMuch(parentId, Long.parseLong((String) reply.get(1)));
            case "counted":
                return new ChildCompletion.Counted(Integer.parseInt((String) reply.get(1)),
                        Integer.parseInt((String) reply.get(2)), "1".equals(reply.get(3)));
            case "join-due":
                String key = (String) reply.get(5);
                JoinTask join = new JoinTask((String) reply.get(2), (String) reply.get(3), (String) reply.get(4),
                        key.isEmpty() ? null : key, (String) reply.get(6));
                List<@Nullable String> results = new ArrayList<>(reply.size() - 7);
                for (Object r : reply.subList(7, reply.size())) {
                    String encoded = (String) r;
                    results.add(encoded.startsWith(RESULT_PREFIX) ? encoded.substring(1) : null);
                }
                return new ChildCompletion.JoinDue(join, results, "1".equals(reply.get(1)));
            default:
                throw new IllegalStateException("group_child_done.lua answered an unknown status " + status);
        }
    }

    void joinPublished(RedisCommands<String, String> c, String parentId) {
        RedisCoordinationStore.script(c, JOIN_PUBLISHED, ScriptOutputType.INTEGER, groupKeys(parentId));
    }

    void childDead(RedisCommands<String, String> c, String parentId, String childId, String reason) {
        RedisCoordinationStore.script(c, CHILD_DEAD, ScriptOutputType.INTEGER, groupKeys(parentId), childId, reason);
    }

    @SuppressWarnings("unchecked")
    Optional<GroupView> group(RedisCommands<String, String> c, String parentId) {
        List<Object> reply = RedisCoordinationStore.script(c, VIEW, ScriptOutputType.MULTI, groupKeys(parentId));
        if (reply.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> fields = pairs((List<Object>) reply.get(0));
        Map<String, String> members = pairs((List<Object>) reply.get(1));
        Map<String, String> done = pairs((List<Object>) reply.get(2));
        Map<String, String> dead = pairs((List<Object>) reply.get(3));
        int expected = Integer.parseInt(fields.get("expected"));
        GroupView.ChildView[] children = new GroupView.ChildView[expected];
        members.forEach((id, value) -> {
            // "<index>:<queue length>:<queue>:<type>"
            int first = value.indexOf(':');
            int second = value.indexOf(':', first + 1);
            int index = Integer.parseInt(value.substring(0, first));
            int queueLength = Integer.parseInt(value.substring(first + 1, second));
            String queue = value.substring(second + 1, second + 1 + queueLength);
            String type = value.substring(second + 2 + queueLength);
            String withResult = done.get(id);
            GroupView.State state = withResult != null ? GroupView.State.DONE
                    : dead.containsKey(id) ? GroupView.State.DEAD : GroupView.State.PENDING;
            children[index] = new GroupView.ChildView(index, id, queue, type, state,
                    state == GroupView.State.DEAD ? dead.get(id) : null, "1".equals(withResult));
        });
        GroupView.JoinView join = null;
        String joinId = fields.get("join_id");
        if (joinId != null && !joinId.isEmpty()) {
            String deadReason = dead.get(joinId);
            GroupView.JoinState state = deadReason != null ? GroupView.JoinState.DEAD
                    : switch (fields.get("join_state")) {
                        case "published" -> GroupView.JoinState.PUBLISHED;
                        case "done" -> GroupView.JoinState.DONE;
                        default -> GroupView.JoinState.WAITING;
                    };
            join = new GroupView.JoinView(joinId, fields.get("join_queue"), fields.get("join_type"), state,
                    deadReason);
        }
        return Optional.of(new GroupView(parentId, List.of(children), join));
    }

    private String[] groupKeys(String parentId) {
        return new String[] {keys.group(parentId), keys.groupMembers(parentId), keys.groupResults(parentId),
            keys.groupDead(parentId)};
    }

    private static Map<String, String> pairs(List<Object> flat) {
        Map<String, String> m = new HashMap<>(flat.size());
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            m.put((String) flat.get(i), (String) flat.get(i + 1));
        }
        return m;
    }
}
