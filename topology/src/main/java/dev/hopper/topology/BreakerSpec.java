package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Circuit-breaker settings of one queue ({@code breaker:} in hopper.yml). A queue has no breaker unless its
 * config (or {@code defaults:}) has a {@code breaker:} section; {@code breaker: {}} enables one with
 * {@link #DEFAULT}'s values. The window counts handler runs (count-based), not time.
 *
 * @param failureRatePercent the breaker opens when at least this share of the runs in the window failed (1..100)
 * @param minimumCalls runs needed in the window before the failure rate is evaluated
 * @param window how many of the latest runs the failure rate is computed over (>= minimumCalls)
 * @param waitInOpen how long the queue stays paused before trial runs (half-open)
 * @param halfOpenCalls how many trial runs decide between closing and opening again
 */
public record BreakerSpec(int failureRatePercent, int minimumCalls, int window, Duration waitInOpen,
        int halfOpenCalls) {

    public static final BreakerSpec DEFAULT = new BreakerSpec(50, 20, 50, Duration.ofSeconds(30), 5);

    public BreakerSpec {
        requireNonNull(waitInOpen, "waitInOpen");
        if (failureRatePercent < 1 || failureRatePercent > 100) {
            throw new IllegalArgumentException("breaker failure-rate must be a percentage between 1 and 100, was "
                    + failureRatePercent);
        }
        if (minimumCalls < 1) {
            throw new IllegalArgumentException("breaker minimum-calls must be >= 1, was " + minimumCalls);
        }
        if (window < minimumCalls) {
            throw new IllegalArgumentException("breaker window (" + window + ") must be >= minimum-calls ("
                    + minimumCalls + ") or the failure rate is never evaluated");
        }
        if (waitInOpen.compareTo(Duration.ofMillis(100)) < 0) {
            throw new IllegalArgumentException("breaker wait must be at least 100ms, was "
                    + DurationText.format(waitInOpen));
        }
        if (halfOpenCalls < 1 || halfOpenCalls > 65_535) {
            throw new IllegalArgumentException("breaker half-open-calls must be between 1 and 65535, was "
                    + halfOpenCalls);
        }
    }
}
