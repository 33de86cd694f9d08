package dev.hopper.coordination;

import dev.hopper.topology.HopperException;

/**
 * The coordination store did not answer (down, unreachable, or slower than its timeout). A worker never runs a
 * keyed task without its lock: it hands the task back without counting an attempt and pauses until the store
 * answers.
 */
public final class StoreUnavailableException extends HopperException {
    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreUnavailableException(String message) {
        super(message);
    }
}
