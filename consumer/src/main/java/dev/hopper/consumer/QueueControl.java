package dev.hopper.consumer;

/**
 * What the components that stop a queue's consumption need from its consumer. Each {@link Hold} is independent:
 * the queue consumes only while no hold is set, so the breaker closing cannot undo a pause for a store outage, nor
 * the other way round.
 */
interface QueueControl {

    /** Why consumption of a queue is held. */
    enum Hold {
        /** {@link Worker#pause} by the application. */
        MANUAL,
        /** The queue's circuit breaker is open. */
        CIRCUIT_BREAKER,
        /** The coordination store does not answer. */
        STORE_UNAVAILABLE
    }

    /** Sets {@code hold}; the first hold stops new deliveries (basic.cancel), in-hand ones finish. Idempotent. */
    void pause(Hold hold, String why);

    /** Clears {@code hold}; clearing the last one subscribes again. Idempotent. */
    void resume(Hold hold, String why);

    /** Sets the prefetch (basic.qos) for the subscription, renewing a live subscription to apply it at once. */
    void changePrefetch(int prefetch, String why);
}
