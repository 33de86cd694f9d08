package dev.hopper.consumer;

import dev.hopper.topology.QueueSpec;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Admission of one queue's deliveries to its handlers: the queue's circuit breaker and rate limiter, each
 * optional (hopper.yml {@code breaker:} and {@code rate-limit:}).
 *
 * <p>Rate limit: at most {@code rate-limit} handler starts per second per worker (Resilience4j
 * {@link RateLimiter}, refreshed every second; a fresh limiter lets one second's worth start at once). The wait
 * happens on the handler thread, before the key's lock is taken, never on the connection's thread; tasks that then
 * turn out superseded or lock-busy have used a start. Concurrency is bounded separately by the queue's pool of
 * {@code concurrency} handler threads (bulkhead semantics: at most that many handlers run at once, and deliveries
 * beyond them wait in the prefetch buffer, unacked).
 *
 * <p>Thread-safe; each {@link Pass} belongs to the one thread that processes its delivery.
 */
final class DeliveryGate {
    /** How long a handler thread may wait for a start; far beyond any real wait (concurrency / rate seconds). */
    private static final Duration MAX_START_WAIT = Duration.ofHours(1);

    private final @Nullable BreakerGate breaker;
    private final @Nullable RateLimiter starts;

    DeliveryGate(@Nullable BreakerGate breaker, @Nullable RateLimiter starts) {
        this.breaker = breaker;
        this.starts = starts;
    }

    /** The gate for {@code spec}: its breaker (if configured) and rate limiter (if configured). */
    static DeliveryGate forQueue(QueueSpec spec, WorkerListener listener) {
        BreakerGate b = spec.breaker() == null ? null : new BreakerGate(spec, spec.breaker(), listener);
        RateLimiter r = spec.rateLimit() == 0 ? null : RateLimiter.of("hopper-" + spec.name(),
                RateLimiterConfig.custom().limitForPeriod(spec.rateLimit()).limitRefreshPeriod(Duration.ofSeconds(1))
                        .timeoutDuration(MAX_START_WAIT).build());
        return new DeliveryGate(b, r);
    }

    @Nullable BreakerGate breaker() {
        return breaker;
    }

    /** Connects the breaker (if any) to the consumer it pauses and resumes. */
    void bind(QueueControl control) {
        if (breaker != null) {
            breaker.bind(control);
        }
    }

    /** A pass for one delivery, or null when the breaker refuses it: hand it back unrun (outcome returned). */
    @Nullable Pass admit() {
        if (breaker != null && !breaker.tryEnter()) {
            return null;
        }
        return new Pass();
    }

    /** One delivery's way through the gate. Call {@link #close()} exactly once, after settling. */
    final class Pass implements AutoCloseable {
        private @Nullable Duration took;
        private @Nullable Throwable failure;
        private boolean counted;

        private Pass() {}

        /**
         * Waits for the rate limiter's permission to start a handler. False only when interrupted (the worker is
         * being shut down): hand the delivery back.
         */
        boolean awaitStart() {
            return starts == null || starts.acquirePermission();
        }

        /**
         * Records how the handler run went.
         *
         * @param failure what it threw, or null for success
         * @param taskAtFault the failure is the task's own (permanent, or a lost lock): not counted by the breaker
         */
        void handlerFinished(Duration took, @Nullable Throwable failure, boolean taskAtFault) {
            this.took = took;
            this.failure = failure;
            this.counted = failure == null || !taskAtFault;
        }

        /** Reports the run to the breaker (or gives its permission back if none ran or it does not count). */
        @Override
        public void close() {
            if (breaker == null) {
                return;
            }
            Duration t = took;
            if (t == null || !counted) {
                breaker.notCounted();
            } else if (failure == null) {
                breaker.succeeded(t);
            } else {
                breaker.failed(t, failure);
            }
        }
    }
}
