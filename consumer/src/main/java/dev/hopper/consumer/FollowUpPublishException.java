package dev.hopper.consumer;

import dev.hopper.topology.HopperException;

/**
 * A handler succeeded but its follow-ups (or the join it completed) could not be published or recorded: the broker
 * did not confirm in time, refused or could not route one, or the coordination store did not answer. The task is
 * not acked; it fails like a handler failure, under its retry policy, and its next run publishes the same follow-ups
 * (same ids) again.
 */
public final class FollowUpPublishException extends HopperException {
    private static final long serialVersionUID = 1L;

    public FollowUpPublishException(String message, Throwable cause) {
        super(message, cause);
    }
}
