package dev.hopper.consumer;

/** What a circuit breaker needs from a queue's consumer: stop, start again, and change the prefetch. */
interface QueueControl {
    /** Stops new deliveries (basic.cancel); deliveries in hand finish normally. Idempotent. */
    void pause(String why);

    /** Subscribes again after {@link #pause}. Idempotent. */
    void resume(String why);

    /** Sets the prefetch (basic.qos) for the subscription, renewing a live subscription to apply it at once. */
    void changePrefetch(int prefetch, String why);
}
