package dev.hopper.consumer;

/**
 * The state of a queue's circuit breaker, as reported to {@link WorkerListener#onBreakerStateChanged} and exported
 * as the {@code hopper.circuit.state} gauge ({@link #gaugeValue()}).
 */
public enum BreakerState {
    /** Consuming normally; handler failures are counted. Gauge value 0. */
    CLOSED(0),
    /** Too many handler failures: the queue is not consumed until the breaker's wait is over. Gauge value 1. */
    OPEN(1),
    /** A few trial tasks run (prefetch = the breaker's half-open calls) and decide: closed or open. Gauge value 2. */
    HALF_OPEN(2);

    private final int gaugeValue;

    BreakerState(int gaugeValue) {
        this.gaugeValue = gaugeValue;
    }

    /** 0 closed, 1 open, 2 half-open. */
    public int gaugeValue() {
        return gaugeValue;
    }
}
