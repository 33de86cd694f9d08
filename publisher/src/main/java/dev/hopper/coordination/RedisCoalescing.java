package dev.hopper.coordination;

import dev.hopper.topology.CoalesceWindow;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * The coalescing part of {@link RedisCoordinationStore}: one Lua script per operation ({@code coalesce_schedule.lua},
 * {@code coalesce_claim.lua}), each a translation of {@link CoalescingRules}, over one hash per key
 * ({@link RedisKeys#coalesce}) that expires by PEXPIRE as {@link CoalescingStore} says. Kept apart from the lock and
 * revision scripts on purpose. Stateless and thread-safe; the store supplies the connection and its error handling.
 */
final class RedisCoalescing {
    private static final LuaScript SCHEDULE = LuaScript.load("coalesce_schedule.lua");
    private static final LuaScript CLAIM = LuaScript.load("coalesce_claim.lua");

    private static final long PUBLISH_NOW = 1;
    private static final long PUBLISH_DELAYED = 2;
    private static final long ABSORBED = 3;
    private static final long CLAIMED = 1;
    private static final long NOT_DUE = 2;
    private static final long NOTHING_PENDING = 3;
    private static final long FORGOTTEN = 4;

    private final RedisKeys keys;

    RedisCoalescing(RedisKeys keys) {
        this.keys = keys;
    }

    CoalesceSchedule scheduleOrAbsorb(RedisCommands<String, String> c, CoalesceKey key, String messageId,
            byte[] payload, CoalesceWindow window, Instant now) {
        List<Object> reply = RedisCoordinationStore.script(c, SCHEDULE, ScriptOutputType.MULTI,
                new String[] {keys.coalesce(key)}, messageId, new String(payload, StandardCharsets.UTF_8),
                Long.toString(window.debounce().toMillis()), Long.toString(window.maxDelay().toMillis()),
                Long.toString(now.toEpochMilli()), Long.toString(CoalescingStore.staleAfter(window).toMillis()),
                Long.toString(CoalescingStore.RETENTION.toMillis()));
        long status = (Long) reply.get(0);
        if (status == PUBLISH_NOW) {
            return new CoalesceSchedule.PublishNow();
        }
        if (status == PUBLISH_DELAYED) {
            return new CoalesceSchedule.PublishDelayed(Instant.ofEpochMilli((Long) reply.get(1)));
        }
        if (status == ABSORBED) {
            return new CoalesceSchedule.Absorbed((String) reply.get(1), Instant.ofEpochMilli((Long) reply.get(2)),
                    (Long) reply.get(3));
        }
        throw new IllegalStateException("coalesce_schedule.lua answered an unknown status " + status);
    }

    CoalesceClaim claim(RedisCommands<String, String> c, CoalesceKey key, String messageId, CoalesceWindow window,
            Instant now) {
        List<Object> reply = RedisCoordinationStore.script(c, CLAIM, ScriptOutputType.MULTI,
                new String[] {keys.coalesce(key)}, messageId, Long.toString(now.toEpochMilli()),
                Long.toString(window.maxDelay().toMillis()), Long.toString(CoalescingStore.RETENTION.toMillis()));
        long status = (Long) reply.get(0);
        if (status == CLAIMED) {
            return new CoalesceClaim.Claimed(((String) reply.get(1)).getBytes(StandardCharsets.UTF_8),
                    (Long) reply.get(2), (Long) reply.get(3) == 1L);
        }
        if (status == NOT_DUE) {
            return new CoalesceClaim.NotDue(Instant.ofEpochMilli((Long) reply.get(1)));
        }
        if (status == NOTHING_PENDING) {
            return new CoalesceClaim.NothingPending();
        }
        if (status == FORGOTTEN) {
            return new CoalesceClaim.Forgotten();
        }
        throw new IllegalStateException("coalesce_claim.lua answered an unknown status " + status);
    }
}
