package dev.hopper.topology;

/**
 * Base of Hopper's unchecked exceptions. Messages say what failed, which object it concerns, and what the
 * caller can do about it.
 */
public class HopperException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HopperException(String message) {
        super(message);
    }

    public HopperException(String message, Throwable cause) {
        super(message, cause);
    }

    /** For exceptions thrown at a high rate as control flow, where a stack trace is pure cost. */
    protected HopperException(String message, boolean writableStackTrace) {
        super(message, null, false, writableStackTrace);
    }
}
