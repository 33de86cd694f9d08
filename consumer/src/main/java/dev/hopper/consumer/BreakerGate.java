package dev.hopper.consumer;

import dev.hopper.topology.BreakerSpec;
import dev.hopper.topology.QueueSpec;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnStateTransitionEvent;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Resilience4j circuit breaker over one queue's handler runs, driving that queue's consumption (design.md,
 * "Resilience and observability"). Uses the breaker's low-level API because a run's outcome is known only when
 * its delivery is settled: {@link #tryEnter()} before the run, then exactly one of {@link #succeeded},
 * {@link #failed} or {@link #notCounted}.
 *
 * <p>Only failures that say something about the handler's downstream count (errors, timeouts); the task's own
 * faults (malformed, unknown type, permanent) never reach the breaker. State changes act on the queue:
 * <ul>
 *   <li>OPEN: {@link QueueControl#pause} (basic.cancel); runs in progress finish normally, and deliveries that were
 *       already prefetched are refused by {@link #tryEnter()} and handed back unrun, so waiting tasks do not burn
 *       their retries while the downstream is down;
 *   <li>HALF_OPEN (automatic after the wait): prefetch = the half-open calls, then resume, so only that many trial
 *       tasks are taken;
 *   <li>CLOSED: the queue's normal prefetch again.
 * </ul>
 * Each change is logged once and reported to {@link WorkerListener#onBreakerStateChanged}. Thread-safe; the
 * half-open transition arrives on Resilience4j's scheduler thread, the others on handler threads.
 */
final class BreakerGate {
    private static final Logger log = LoggerFactory.getLogger(BreakerGate.class);

    private final String queue;
    private final int normalPrefetch;
    private final BreakerSpec spec;
    private final CircuitBreaker breaker;
    private final WorkerListener listener;
    private volatile @Nullable QueueControl control;

    BreakerGate(QueueSpec queue, BreakerSpec spec, WorkerListener listener) {
        this.queue = queue.name();
        this.normalPrefetch = queue.prefetch();
        this.spec = spec;
        this.listener = listener;
        this.breaker = CircuitBreaker.of("hopper-" + queue.name(), CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(spec.window())
                .minimumNumberOfCalls(spec.minimumCalls())
                .failureRateThreshold(spec.failureRatePercent())
                .waitDurationInOpenState(spec.waitInOpen())
                .permittedNumberOfCallsInHalfOpenState(spec.halfOpenCalls())
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .build());
        breaker.getEventPublisher().onStateTransition(this::onTransition);
    }

    /** Connects the breaker to the consumer it pauses and resumes; call once, before consuming starts. */
    void bind(QueueControl control) {
        this.control = control;
    }

    /**
     * Asks for a run. False while open (or when the half-open trials are taken): the caller hands the delivery
     * back unrun, and if the queue is still subscribed it is paused again (e.g. after another component resumed
     * it), so refused deliveries cannot loop.
     */
    boolean tryEnter() {
        if (breaker.tryAcquirePermission()) {
            return true;
        }
        if (breaker.getState() == CircuitBreaker.State.OPEN || breaker.getState() == CircuitBreaker.State.FORCED_OPEN) {
            QueueControl c = control;
            if (c != null) {
                c.pause(QueueControl.Hold.CIRCUIT_BREAKER, "circuit breaker open");
            }
        }
        return false;
    }

    void succeeded(Duration took) {
        breaker.onSuccess(took.toNanos(), TimeUnit.NANOSECONDS);
    }

    void failed(Duration took, Throwable error) {
        breaker.onError(took.toNanos(), TimeUnit.NANOSECONDS, error);
    }

    /** The run did not happen, or failed through the task's own fault: give the permission back uncounted. */
    void notCounted() {
        breaker.releasePermission();
    }

    BreakerState state() {
        return map(breaker.getState());
    }

    private void onTransition(CircuitBreakerOnStateTransitionEvent e) {
        BreakerState to = map(e.getStateTransition().getToState());
        QueueControl c = control;
        CircuitBreaker.Metrics m = breaker.getMetrics();
        switch (to) {
            case OPEN -> {
                log.warn("circuit breaker opened queue={} failure-rate={}% failed={} calls={}; pausing for {}",
                        queue, Math.round(m.getFailureRate()), m.getNumberOfFailedCalls(), m.getNumberOfBufferedCalls(),
                        dev.hopper.topology.DurationText.format(spec.waitInOpen()));
                if (c != null) {
                    c.pause(QueueControl.Hold.CIRCUIT_BREAKER, "circuit breaker open");
                }
            }
            case HALF_OPEN -> {
                log.info("circuit breaker half-open queue={}; consuming {} trial task(s)", queue, spec.halfOpenCalls());
                if (c != null) {
                    c.changePrefetch(spec.halfOpenCalls(), "circuit breaker half-open");
                    resume(c, "circuit breaker half-open");
                }
            }
            case CLOSED -> {
                log.info("circuit breaker closed queue={}; consuming normally", queue);
                if (c != null) {
                    c.changePrefetch(normalPrefetch, "circuit breaker closed");
                    resume(c, "circuit breaker closed");
                }
            }
        }
        try {
            listener.onBreakerStateChanged(queue, to);
        } catch (RuntimeException ex) {
            log.warn("worker listener failed: {}", ex.toString());
        }
    }

    private void resume(QueueControl c, String why) {
        try {
            c.resume(QueueControl.Hold.CIRCUIT_BREAKER, why);
        } catch (RuntimeException ex) {
            // Same limit as a resume after a store outage: the queue stays paused until the worker restarts.
            log.warn("could not resume consuming queue={} after {}: {}", queue, why, ex.getMessage());
        }
    }

    private static BreakerState map(CircuitBreaker.State s) {
        return switch (s) {
            case CLOSED, DISABLED, METRICS_ONLY -> BreakerState.CLOSED;
            case HALF_OPEN -> BreakerState.HALF_OPEN;
            case OPEN, FORCED_OPEN -> BreakerState.OPEN;
        };
    }
}
