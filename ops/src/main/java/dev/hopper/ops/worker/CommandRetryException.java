package dev.hopper.ops.worker;

import dev.hopper.topology.HopperException;

/** An {@code --exec} command exited with 75 (EX_TEMPFAIL): retried under the queue's policy. */
final class CommandRetryException extends HopperException {
    private static final long serialVersionUID = 1L;

    CommandRetryException(String message) {
        super(message);
    }
}
