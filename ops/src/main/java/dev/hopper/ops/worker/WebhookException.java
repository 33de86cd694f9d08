package dev.hopper.ops.worker;

import dev.hopper.topology.HopperException;

/** A {@code --webhook} POST failed (no connection, timeout, or a non-2xx answer): retried under the policy. */
final class WebhookException extends HopperException {
    private static final long serialVersionUID = 1L;

    WebhookException(String message) {
        super(message);
    }

    WebhookException(String message, Throwable cause) {
        super(message, cause);
    }
}
