package dev.hopper.consumer;

import dev.hopper.topology.HopperException;

/**
 * Thrown by a handler when a task can never succeed (bad input, a deleted entity): the task goes straight to
 * the dead-letter queue with reason {@code permanent}, without retries.
 */
public class PermanentTaskException extends HopperException {
    private static final long serialVersionUID = 1L;

    public PermanentTaskException(String message) {
        super(message);
    }

    public PermanentTaskException(String message, Throwable cause) {
        super(message, cause);
    }
}
