package dev.hopper.ops.worker;

import dev.hopper.topology.HopperException;

/** Thrown by {@code --builtin fail} while the payload asks for more failures: retried under the policy. */
final class DeliberateFailureException extends HopperException {
    private static final long serialVersionUID = 1L;

    DeliberateFailureException(String message) {
        super(message);
    }
}
