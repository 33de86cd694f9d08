package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.CoalescingRules.CoalesceState;
import dev.hopper.coordination.CoalescingRules.Step;
import dev.hopper.topology.CoalesceWindow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The coalescing part of {@link InMemoryCoordinationStore}: the {@link CoalescingRules} applied under the map's
 * per-key lock, so each operation is atomic for its key. Kept apart from the lock and revision state on purpose.
 * Thread-safe.
 *
 * <p><b>Memory.</b> One entry per key with a live state (at most one payload of each of the pending run and the
 * last claim). Entries are removed once expired, found through expiry buckets of {@link #BUCKET_MS}: each write
 * files its key in the bucket of its new expiry, and every operation first empties the buckets whose time has
 * passed, so each filing is looked at once (amortized O(1)) and memory stays bounded by the keys written within
 * one state lifetime ({@link CoalescingStore#RETENTION} plus the window).
 */
final class InMemoryCoalescing implements CoalescingStore {
    static final long BUCKET_MS = 10_000;

    private final ConcurrentHashMap<CoalesceKey, CoalesceState> states = new ConcurrentHashMap<>();
    /** Bucket start (ms) to the keys filed there; guarded by itself. */
    private final TreeMap<Long, List<CoalesceKey>> buckets = new TreeMap<>();

    @Override
    public CoalesceSchedule scheduleOrAbsorb(CoalesceKey key, String messageId, byte[] payload, CoalesceWindow window,
            Instant now) {
        requireNonNull(messageId, "messageId");
        requireNonNull(payload, "payload");
        requireNonNull(window, "window");
        return apply(key, now, (s, nowMs) -> CoalescingRules.schedule(s, messageId, payload, window, nowMs));
    }

    @Override
    public CoalesceClaim claim(CoalesceKey key, String messageId, CoalesceWindow window, Instant now) {
        requireNonNull(messageId, "messageId");
        requireNonNull(window, "window");
        return apply(key, now, (s, nowMs) -> CoalescingRules.claim(s, messageId, window, nowMs));
    }

    /** One rule applied to one key's state under the map's per-key lock: the atomic step of both operations. */
    private <A> A apply(CoalesceKey key, Instant now, Rule<A> rule) {
        requireNonNull(key, "key");
        long nowMs = now.toEpochMilli();
        expire(nowMs);
        List<Step<A>> step = new ArrayList<>(1);
        states.compute(key, (k, s) -> {
            Step<A> next = rule.apply(s, nowMs);
            step.add(next);
            return next.state();
        });
        Step<A> done = step.get(0);
        file(key, done.state());
        return done.answer();
    }

    /** A rule of {@link CoalescingRules} with its arguments bound. */
    @FunctionalInterface
    private interface Rule<A> {
        Step<A> apply(@org.jspecify.annotations.Nullable CoalesceState state, long nowMs);
    }

    /** Keys with a live state (for tests of the memory bound). */
    int size() {
        return states.size();
    }

    private void file(CoalesceKey key, @org.jspecify.annotations.Nullable CoalesceState state) {
        if (state == null) {
            return;
        }
        long bucket = Math.floorDiv(state.expiresAtMs(), BUCKET_MS) * BUCKET_MS;
        synchronized (buckets) {
            buckets.computeIfAbsent(bucket, b -> new ArrayList<>()).add(key);
        }
    }

    private void expire(long nowMs) {
        List<CoalesceKey> due = null;
        synchronized (buckets) {
            while (!buckets.isEmpty() && buckets.firstKey() + BUCKET_MS <= nowMs) {
                Map.Entry<Long, List<CoalesceKey>> first = buckets.pollFirstEntry();
                if (due == null) {
                    due = new ArrayList<>();
                }
                due.addAll(first.getValue());
            }
        }
        if (due != null) {
            for (CoalesceKey k : due) {
                // A key written again since it was filed here has a later expiry and stays.
                states.computeIfPresent(k, (key, s) -> CoalescingRules.live(s, nowMs));
            }
        }
    }
}
