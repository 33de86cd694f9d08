package dev.hopper.consumer;

import dev.hopper.coordination.StoreUnavailableException;

/**
 * Hears that the coordination store did not answer a delivery's call. The worker's implementation pauses
 * consuming and probes the store on a thread of its own until it answers. Must return at once (called on handler
 * threads).
 */
@FunctionalInterface
interface StoreHealth {
    void unavailable(StoreUnavailableException e);
}
