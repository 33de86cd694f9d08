package dev.hopper.consumer;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Hooks into a {@link Worker}'s settlements and state changes, e.g. for metrics. Methods are called on worker
 * threads, must be quick and thread-safe, and may throw: a listener's exception is logged and never reaches the
 * delivery path.
 */
public interface WorkerListener {

    /**
     * One delivery was settled.
     *
     * @param type the task type if it is registered with the worker, else {@code "unknown"} (bounded for tags)
     * @param handlerDuration how long the handler ran; null when it did not run
     * @param lag publish time to handler start; null when it did not run
     * @param attempts runs so far, including this one (for success and dead outcomes)
     * @param lateness for a run of a task with a not-before time: how long after that time the handler started;
     *     null otherwise
     * @param absorbed for a run that claimed a coalesced payload: how many publishes it absorbed besides its own
     *     (0 otherwise)
     */
    record Settled(String queue, String type, Outcome outcome, @Nullable Duration handlerDuration,
            @Nullable Duration lag, int attempts, @Nullable Duration lateness, long absorbed) {

        /** A settlement of a task without a not-before time or a coalesced claim. */
        public Settled(String queue, String type, Outcome outcome, @Nullable Duration handlerDuration,
                @Nullable Duration lag, int attempts) {
            this(queue, type, outcome, handlerDuration, lag, attempts, null, 0);
        }
    }

    default void onSettled(Settled event) {}

    /** The worker stopped or resumed consuming a queue ({@code paused} true when stopped), and why. */
    default void onConsumingChanged(String queue, boolean paused, String why) {}

    /** A queue's circuit breaker changed state (only queues with a {@code breaker:} in hopper.yml have one). */
    default void onBreakerStateChanged(String queue, BreakerState state) {}
}
