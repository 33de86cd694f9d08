package dev.hopper.coordination;

import dev.hopper.topology.CoalesceWindow;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * The rules of {@link CoalescingStore} as pure functions from a key's state to its next state and the answer.
 * {@link InMemoryCoalescing} applies them under a per-key lock; the Redis scripts {@code coalesce_schedule.lua}
 * and {@code coalesce_claim.lua} are line-by-line translations, and {@code CoalescingContract} holds both to the
 * same behaviour. Times are epoch milliseconds of the caller's clock. Stateless; thread-safe.
 */
final class CoalescingRules {
    private CoalescingRules() {}

    /** A new state and the answer that goes with it. */
    record Step<A>(@Nullable CoalesceState state, A answer) {}

    /**
     * One key's state. Immutable; payload arrays are never modified once stored.
     *
     * @param pendingId the message id of the pending run, or null for none
     * @param dueMs the pending run's due time
     * @param lastRunMs when the last run started (its claim), or -1 for never
     * @param latest the pending run's latest payload
     * @param absorbed publishes the pending run absorbed
     * @param claimedId the message id of the last claim, or null
     * @param claimedPayload what the last claim handed out
     * @param claimedAbsorbed the count the last claim handed out
     * @param expiresAtMs when the whole state expires
     */
    record CoalesceState(@Nullable String pendingId, long dueMs, long lastRunMs, byte @Nullable [] latest,
            long absorbed, @Nullable String claimedId, byte @Nullable [] claimedPayload, long claimedAbsorbed,
            long expiresAtMs) {}

    static @Nullable CoalesceState live(@Nullable CoalesceState s, long nowMs) {
        return s == null || s.expiresAtMs() <= nowMs ? null : s;
    }

    static Step<CoalesceSchedule> schedule(@Nullable CoalesceState stored, String messageId, byte[] payload,
            CoalesceWindow w, long nowMs) {
        CoalesceState s = live(stored, nowMs);
        long debounce = w.debounce().toMillis();
        long maxDelay = w.maxDelay().toMillis();
        long lastRun = s == null ? -1 : s.lastRunMs();
        String claimedId = s == null ? null : s.claimedId();
        byte[] claimedPayload = s == null ? null : s.claimedPayload();
        long claimedAbsorbed = s == null ? 0 : s.claimedAbsorbed();
        if (s != null && s.pendingId() != null) {
            if (s.pendingId().equals(messageId)) {
                // A retried publish of the pending run's own message: answer as the first time, count nothing.
                return new Step<>(s, s.dueMs() <= nowMs ? new CoalesceSchedule.PublishNow()
                        : new CoalesceSchedule.PublishDelayed(Instant.ofEpochMilli(s.dueMs())));
            }
            if (nowMs - s.dueMs() > CoalescingStore.staleAfter(w).toMillis()) {
                // Presumed lost: this task carries the run from now on, with every payload the lost one absorbed.
                CoalesceState next = new CoalesceState(messageId, nowMs, lastRun, payload.clone(), s.absorbed() + 1,
                        claimedId, claimedPayload, claimedAbsorbed, expiry(w, nowMs, nowMs));
                return new Step<>(next, new CoalesceSchedule.PublishNow());
            }
            long due = s.dueMs();
            if (lastRun >= 0) {
                due = Math.max(due, Math.min(due + debounce, lastRun + maxDelay));
            }
            long absorbed = s.absorbed() + 1;
            CoalesceState next = new CoalesceState(s.pendingId(), due, lastRun, payload.clone(), absorbed, claimedId,
                    claimedPayload, claimedAbsorbed, expiry(w, nowMs, due));
            return new Step<>(next, new CoalesceSchedule.Absorbed(s.pendingId(), Instant.ofEpochMilli(due), absorbed));
        }
        if (lastRun < 0 || nowMs - lastRun >= debounce) {
            CoalesceState next = new CoalesceState(messageId, nowMs, lastRun, payload.clone(), 0, claimedId,
                    claimedPayload, claimedAbsorbed, expiry(w, nowMs, nowMs));
            return new Step<>(next, new CoalesceSchedule.PublishNow());
        }
        long due = lastRun + debounce;
        CoalesceState next = new CoalesceState(messageId, due, lastRun, payload.clone(), 0, claimedId, claimedPayload,
                claimedAbsorbed, expiry(w, nowMs, due));
        return new Step<>(next, new CoalesceSchedule.PublishDelayed(Instant.ofEpochMilli(due)));
    }

    static Step<CoalesceClaim> claim(@Nullable CoalesceState stored, String messageId, CoalesceWindow w,
            long nowMs) {
        CoalesceState s = live(stored, nowMs);
        if (s == null) {
            return new Step<>(null, new CoalesceClaim.Forgotten());
        }
        if (messageId.equals(s.pendingId())) {
            if (nowMs < s.dueMs()) {
                return new Step<>(s, new CoalesceClaim.NotDue(Instant.ofEpochMilli(s.dueMs())));
            }
            byte[] payload = s.latest() == null ? new byte[0] : s.latest();
            CoalesceState next = new CoalesceState(null, 0, nowMs, null, 0, messageId, payload, s.absorbed(),
                    expiry(w, nowMs, -1));
            return new Step<>(next, new CoalesceClaim.Claimed(payload, s.absorbed(), false));
        }
        if (messageId.equals(s.claimedId()) && s.claimedPayload() != null) {
            return new Step<>(s, new CoalesceClaim.Claimed(s.claimedPayload(), s.claimedAbsorbed(), true));
        }
        return new Step<>(s, new CoalesceClaim.NothingPending());
    }

    /**
     * {@code max(now + maxDelay, pendingDue + staleAfter) + RETENTION}: past it nothing in the state can change an
     * answer except to say "forgotten". {@code pendingDueMs} -1 for no pending run.
     */
    static long expiry(CoalesceWindow w, long nowMs, long pendingDueMs) {
        long horizon = nowMs + w.maxDelay().toMillis();
        if (pendingDueMs >= 0) {
            horizon = Math.max(horizon, pendingDueMs + CoalescingStore.staleAfter(w).toMillis());
        }
        return horizon + CoalescingStore.RETENTION.toMillis();
    }
}
