package dev.hopper.consumer;

import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.StoreUnavailableException;
import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pauses every queue while the coordination store does not answer, and resumes them once it does. The probe (a
 * cheap read) runs on {@code probes}, a thread of its own, every 250 ms doubling to 5 s, so a silent store can
 * stall nothing but the probe. {@link #unavailable} returns at once. Thread-safe.
 */
final class StoreWatch implements StoreHealth {
    private static final Logger log = LoggerFactory.getLogger(StoreWatch.class);
    /** Probing a store that stopped answering: 250 ms doubling to 5 s. */
    private static final IntervalFunction PROBE_BACKOFF =
            IntervalFunction.ofExponentialBackoff(Duration.ofMillis(250), 2.0, Duration.ofSeconds(5));

    private final CoordinationStore store;
    private final ScheduledExecutorService probes;
    private final List<? extends QueueControl> queues;
    private final AtomicBoolean down = new AtomicBoolean();
    private volatile boolean closed;

    StoreWatch(CoordinationStore store, ScheduledExecutorService probes, List<? extends QueueControl> queues) {
        this.store = store;
        this.probes = probes;
        this.queues = List.copyOf(queues);
    }

    @Override
    public void unavailable(StoreUnavailableException e) {
        if (closed || !down.compareAndSet(false, true)) {
            return;
        }
        log.warn("coordination store unavailable; pausing consumption until it answers: {}", e.getMessage());
        queues.forEach(q -> q.pause(QueueControl.Hold.STORE_UNAVAILABLE, "coordination store unavailable"));
        schedule(1);
    }

    @Override
    public boolean isDown() {
        return down.get();
    }

    void close() {
        closed = true;
    }

    /** Schedules the {@code attempt}-th probe (1-based) after its backoff. */
    private void schedule(int attempt) {
        if (closed) {
            return;
        }
        try {
            probes.schedule(() -> probe(attempt), PROBE_BACKOFF.apply(attempt), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("worker closing; store probes stopped");
        }
    }

    private void probe(int attempt) {
        try {
            store.isCompleted("hopper-store-probe");
        } catch (RuntimeException e) {
            schedule(Math.min(attempt + 1, 32)); // past 5 s the count no longer matters
            return;
        }
        if (closed || !down.compareAndSet(true, false)) {
            return;
        }
        log.info("coordination store answers again; resuming consumption");
        queues.forEach(q -> q.resume(QueueControl.Hold.STORE_UNAVAILABLE, "coordination store available"));
    }
}
