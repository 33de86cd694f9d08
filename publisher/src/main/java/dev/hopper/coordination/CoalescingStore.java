package dev.hopper.coordination;

import dev.hopper.topology.CoalesceWindow;
import java.time.Instant;

/**
 * Per-key coalescing of runs, the digest schedule of design.md ("Coalescing"). For each {@link CoalesceKey} the
 * store keeps the pending run (its message id and due time), when the last run started, the latest payload and how
 * many publishes the pending run absorbed; and, for redeliveries, what the last claim handed out. Both operations
 * are one atomic step each. Implementations are thread-safe.
 *
 * <h2>Rules</h2>
 * {@link #scheduleOrAbsorb}, with {@code D} the debounce and {@code M} the max-delay:
 * <ul>
 *   <li>no pending run, and the last run started at least {@code D} ago (or never): the task becomes the pending
 *       run, due now ({@link CoalesceSchedule.PublishNow}): the first trigger is never delayed;</li>
 *   <li>no pending run, the last run started less than {@code D} ago: the task becomes the pending run, due at
 *       last run + {@code D} ({@link CoalesceSchedule.PublishDelayed});</li>
 *   <li>a pending run exists: its payload becomes this task's, its count grows by one, and its due time moves to
 *       {@code max(due, min(due + D, last run + M))} ({@link CoalesceSchedule.Absorbed}); without a last run, the
 *       due time stays. The {@code max} only keeps a due time from moving back: it can be later than
 *       {@code last run + M} only when the run was due at once.</li>
 *   <li>the same message id again (a retried publish): the same answer as the first time, nothing counted;</li>
 *   <li>a pending run due more than {@link #staleAfter} ago was presumed lost (its publish failed after the
 *       store answered, say): the task takes its place, due now, absorbing the lost run's payloads. Should the old
 *       message turn up after all, its claim answers {@link CoalesceClaim.NothingPending}.</li>
 * </ul>
 * {@link #claim} by the pending run's message: {@link CoalesceClaim.NotDue} before its due time; else the run is
 * claimed: the pending run is cleared, the run's start recorded as "now", and the latest payload and absorbed
 * count handed out. A publish landing while the run is under way therefore makes a new pending run, due no sooner
 * than {@code D} after this start, so every publish is covered by a run that starts after it. A claim by the
 * message that claimed last answers the same again ({@code again}): a worker that died mid-run reruns it.
 *
 * <h2>Time and expiry</h2>
 * {@code now} is the caller's wall clock (the one the {@code x-hopper-not-before} header is compared with), passed
 * in so that producers and workers on one host agree and tests need no sleeping. A key's state expires on its
 * own, {@link #RETENTION} after the last time it can matter: {@code max(now + M, pending due + staleAfter)} at its
 * last write. A claim on an expired key answers {@link CoalesceClaim.Forgotten}.
 *
 * <p>Every method may throw {@link StoreUnavailableException}, like the rest of the {@link CoordinationStore}.
 */
public interface CoalescingStore {
    /** How long a key's state outlives the last moment it can matter. */
    java.time.Duration RETENTION = java.time.Duration.ofHours(1);

    /**
     * How long after its due time an unclaimed pending run is presumed lost: the max-delay, but at least a
     * minute (a backlog longer than that costs one extra message, never a lost trigger).
     */
    static java.time.Duration staleAfter(CoalesceWindow window) {
        java.time.Duration minute = java.time.Duration.ofMinutes(1);
        return window.maxDelay().compareTo(minute) > 0 ? window.maxDelay() : minute;
    }

    /**
     * Publish side, one atomic step: makes {@code messageId} the key's pending run or absorbs {@code payload} into
     * the pending one, by the rules above.
     *
     * @param payload the task's JSON payload (copied by the store)
     */
    CoalesceSchedule scheduleOrAbsorb(CoalesceKey key, String messageId, byte[] payload, CoalesceWindow window,
            Instant now);

    /** Worker side, one atomic step: claims the run {@code messageId} carries, by the rules above. */
    CoalesceClaim claim(CoalesceKey key, String messageId, CoalesceWindow window, Instant now);
}
