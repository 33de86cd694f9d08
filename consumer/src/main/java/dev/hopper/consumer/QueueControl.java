package dev.hopper.consumer;

import java.util.concurrent.CompletableFuture;

/**
 * What the components that stop a queue's consumption need from its consumer. Each {@link Hold} is independent:
 * the queue consumes only while no hold is set, so the breaker closing cannot undo a pause for a store outage, nor
 * the other way round. Every method returns at once (the work happens on the worker's control thread); the future
 * completes when it is done.
 */
interface QueueControl {

    /** Why consumption of a queue is held. */
    enum Hold {
        /** {@link Worker#pause} by the application. */
        MANUAL,
        /** The queue's circuit breaker is open. */
        CIRCUIT_BREAKER,
        /** The coordination store does not answer. */
        STORE_UNAVAILABLE,
        /**
         * The broker blocks the worker's publishing connection ({@code connection.blocked}: a memory or disk alarm):
         * no retry or dead-letter copy could be confirmed, so nothing new is taken meanwhile.
         */
        BROKER_BLOCKED
    }

    /** Sets {@code hold}; the first hold stops new deliveries (basic.cancel), in-hand ones finish. Idempotent. */
    CompletableFuture<Void> pause(Hold hold, String why);

    /** Clears {@code hold}; clearing the last one subscribes again. Idempotent. */
    CompletableFuture<Void> resume(Hold hold, String why);

    /** Sets the prefetch (basic.qos) for the subscription, renewing a live subscription to apply it at once. */
    CompletableFuture<Void> changePrefetch(int prefetch, String why);
}
