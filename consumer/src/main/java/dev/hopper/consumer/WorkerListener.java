package dev.hopper.consumer;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Hooks into a {@link Worker}'s settlements and state changes, e.g. for metrics. Methods are called on worker
 * threads, must be quick and thread-safe, must not block (a completed keyed task's {@link #onSettled} runs on the
 * coordination store client's I/O thread, where later store answers wait behind it: record, don't call out), and
 * may throw: a listener's exception is logged and never reaches the delivery path.
 */
public interface WorkerListener {

    /**
     * One delivery was settled.
     *
     * @param type the task type if it has a handler of its own, or (with a default handler) the first hundred
     *     other types seen; else {@code "unknown"}: bounded, for tags
     * @param reason why, for the outcomes that have reasons: a retried task's {@link
     *     dev.hopper.topology.RetryReason} wire value ({@code error}, {@code lock-lost}, {@code revision-changed},
     *     {@code lock-busy}), a dead letter's {@link dev.hopper.topology.DeadReason} wire value ({@code exhausted},
     *     {@code permanent}, ...), a returned delivery's cause ({@code shutdown}, {@code breaker-open},
     *     {@code store-unavailable}); {@link #NO_REASON} otherwise. A bounded set.
     * @param handlerDuration how long the handler ran; null when it did not run
     * @param lag publish time to handler start; null when it did not run
     * @param attempts runs so far, including this one
     * @param lateness for a run of a task with a not-before time: how long after that time the handler started;
     *     null otherwise
     * @param absorbed for a run that claimed a coalesced payload: how many publishes it absorbed besides its own
     *     (0 otherwise)
     * @param lockCheck how long the lock and revision check took: from sending the check-and-lock call to its
     *     answer, on the worker's monotonic clock, including any wait for a batch of such calls already in flight.
     *     Null when the delivery took no lock (an unkeyed task, a queue without a store) or the store did not
     *     answer; set whatever the answer was (acquired, busy, superseded). Waiting before the call (for a
     *     handler thread, say) is not in it.
     */
    record Settled(String queue, String type, Outcome outcome, String reason, @Nullable Duration handlerDuration,
            @Nullable Duration lag, int attempts, @Nullable Duration lateness, long absorbed,
            @Nullable Duration lockCheck) {
        /** The reason of outcomes that have none (success, superseded, duplicate). */
        public static final String NO_REASON = "none";

        /** A settlement without a lock and revision check. */
        public Settled(String queue, String type, Outcome outcome, String reason, @Nullable Duration handlerDuration,
                @Nullable Duration lag, int attempts, @Nullable Duration lateness, long absorbed) {
            this(queue, type, outcome, reason, handlerDuration, lag, attempts, lateness, absorbed, null);
        }

        /** A settlement without a reason, a not-before time or a coalesced claim. */
        public Settled(String queue, String type, Outcome outcome, @Nullable Duration handlerDuration,
                @Nullable Duration lag, int attempts) {
            this(queue, type, outcome, NO_REASON, handlerDuration, lag, attempts, null, 0);
        }

        /** A settlement of a task without a not-before time or a coalesced claim. */
        public Settled(String queue, String type, Outcome outcome, String reason, @Nullable Duration handlerDuration,
                @Nullable Duration lag, int attempts) {
            this(queue, type, outcome, reason, handlerDuration, lag, attempts, null, 0);
        }

        /** A settlement without a reason. */
        public Settled(String queue, String type, Outcome outcome, @Nullable Duration handlerDuration,
                @Nullable Duration lag, int attempts, @Nullable Duration lateness, long absorbed) {
            this(queue, type, outcome, NO_REASON, handlerDuration, lag, attempts, lateness, absorbed);
        }
    }

    default void onSettled(Settled event) {}

    /** The worker stopped or resumed consuming a queue ({@code paused} true when stopped), and why. */
    default void onConsumingChanged(String queue, boolean paused, String why) {}

    /**
     * A handler's follow-ups were published and confirmed (before its task was acked).
     *
     * @param queue the queue of the task that asked for them
     * @param type that task's type (registered or not: map unregistered types to a bounded tag yourself)
     * @param count how many
     */
    default void onFollowUpsPublished(String queue, String type, int count) {}

    /**
     * A join was published and confirmed by the worker that completed its last follow-up. A worker that dies
     * between the publish and recording it leaves the join to be published again by a later copy of that follow-up
     * (and run once: the copy is acked as a duplicate), so this can count one join twice.
     *
     * @param queue the queue of the follow-up that completed the group
     * @param type that follow-up's type
     */
    default void onJoinPublished(String queue, String type) {}

    /** A queue's circuit breaker changed state (only queues with a {@code breaker:} in hopper.yml have one). */
    default void onBreakerStateChanged(String queue, BreakerState state) {}
}
