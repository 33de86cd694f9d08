package dev.hopper.consumer;

import dev.hopper.topology.QueueSpec;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Admission of one queue's deliveries to its handlers: the queue's circuit breaker and rate limiter, each
 * optional (hopper.yml {@code breaker:} and {@code rate-limit:}). It carries out {@link Effect.Admit} and
 * {@link Effect.AwaitStart} and hears {@link DeliveryDecider.BreakerReport}s; it decides nothing about a delivery.
 *
 * <p>Rate limit: at most {@code rate-limit} handler starts per second per worker (Resilience4j
 * {@link RateLimiter}, refreshed every second; a fresh limiter lets one second's worth start at once). The wait
 * happens on the handler thread, before the key's lock is taken, never on the connection's thread; tasks that then
 * turn out superseded or lock-busy have used a start. Concurrency is bounded separately by the queue's pool of
 * {@code concurrency} handler threads.
 *
 * <p>Thread-safe.
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

    /** Connects the breaker (if any) to the consumer it pauses and resumes. */
    void bind(QueueControl control) {
        if (breaker != null) {
            breaker.bind(control);
        }
    }

    /** Asks the breaker for a run; true without a breaker. A true answer must be followed by one {@link #report}. */
    boolean tryAdmit() {
        return breaker == null || breaker.tryEnter();
    }

    /** Waits for the rate limiter's permission to start. False only when interrupted (shutdown). */
    boolean awaitStart() {
        return starts == null || starts.acquirePermission();
    }

    /** True when the queue has a circuit breaker ({@link #tryAdmit} can refuse). */
    boolean hasBreaker() {
        return breaker != null;
    }

    /** True when starts are never rate-limited, so {@link #awaitStart} would not wait. */
    boolean startsWithoutWaiting() {
        return starts == null;
    }

    /** Tells the breaker how an admitted delivery went. */
    void report(DeliveryDecider.BreakerReport report, @Nullable Duration took, @Nullable Throwable failure) {
        if (breaker == null) {
            return;
        }
        switch (report) {
            case NONE -> { }
            case NOT_COUNTED -> breaker.notCounted();
            case SUCCESS -> breaker.succeeded(took == null ? Duration.ZERO : took);
            case FAILURE -> breaker.failed(took == null ? Duration.ZERO : took,
                    failure == null ? new IllegalStateException("failed") : failure);
        }
    }
}
