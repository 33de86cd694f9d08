package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import dev.hopper.consumer.TaskHandler;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Tells when a handler thread is stuck: still inside a handler longer than the handler timeout plus a grace
 * period, i.e. it ignored the worker's interrupt (a blocking read that does not answer interrupts, a handler that
 * swallows them). Such a thread holds a delivery and a concurrency slot forever, so a worker with one is not
 * healthy: {@code /health} answers 503 and an orchestrator can restart it (its deliveries then go back to the
 * queue).
 *
 * <p>Memory: one entry per handler call in progress (at most the worker's concurrency). Thread-safe; the check is
 * O(running handlers) and takes no lock the handler threads hold.
 */
final class StuckHandlerWatch {
    private final long limitNanos;
    private final LongSupplier nanoTime;
    /** Start time of each handler call in progress, by a token of that call. */
    private final Map<Object, Long> running = new ConcurrentHashMap<>();

    /**
     * @param handlerTimeout the longest handler timeout of the worker's queues
     * @param grace how long past the timeout a handler may take to notice its interrupt and return
     */
    StuckHandlerWatch(Duration handlerTimeout, Duration grace, LongSupplier nanoTime) {
        this.limitNanos = handlerTimeout.plus(grace).toNanos();
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
    }

    /** A watch with the system clock and a grace of a quarter of the timeout, at least 5 seconds. */
    static StuckHandlerWatch forTimeout(Duration handlerTimeout) {
        Duration grace = handlerTimeout.dividedBy(4);
        return new StuckHandlerWatch(handlerTimeout, grace.compareTo(Duration.ofSeconds(5)) < 0
                ? Duration.ofSeconds(5) : grace, System::nanoTime);
    }

    /** {@code handler}, with each call recorded while it runs. */
    <T> TaskHandler<T> watch(TaskHandler<T> handler) {
        requireNonNull(handler, "handler");
        return (payload, context) -> {
            Object call = new Object();
            running.put(call, nanoTime.getAsLong());
            try {
                handler.handle(payload, context);
            } finally {
                running.remove(call);
            }
        };
    }

    /** Handler calls running longer than the timeout plus grace right now. */
    int stuck() {
        long now = nanoTime.getAsLong();
        int n = 0;
        for (long started : running.values()) {
            if (now - started > limitNanos) {
                n++;
            }
        }
        return n;
    }
}
