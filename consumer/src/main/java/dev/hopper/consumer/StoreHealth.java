package dev.hopper.consumer;

import dev.hopper.coordination.StoreUnavailableException;

/**
 * Hears that the coordination store did not answer a delivery's call, and says whether it is known to be down. The
 * worker's implementation pauses consuming and probes the store on a thread of its own until it answers. Both
 * methods return at once (called on handler threads).
 */
interface StoreHealth {
    void unavailable(StoreUnavailableException e);

    /**
     * True from a call that did not answer until a probe is answered again: deliveries already prefetched skip
     * their store calls meanwhile (each would wait the store's whole timeout) and go back at once.
     */
    boolean isDown();
}
