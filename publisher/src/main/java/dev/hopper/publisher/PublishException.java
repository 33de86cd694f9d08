package dev.hopper.publisher;

import dev.hopper.topology.HopperException;
import org.jspecify.annotations.Nullable;

/**
 * A publish was not confirmed: the broker nacked it, returned it as unroutable, the window stayed full, the
 * connection dropped before the confirm, or the confirm timed out. The message may or may not be on the broker
 * ({@link #mayHaveArrived()}); retrying is the caller's choice and gives at-least-once delivery.
 */
public class PublishException extends HopperException {
    private static final long serialVersionUID = 1L;

    /** Why a publish failed. */
    public enum Reason {
        /** The broker refused the message (basic.nack), e.g. a queue at its length limit with reject-publish. */
        NACKED(false),
        /** No queue matched the routing key (mandatory return): the queue does not exist or is not bound. */
        UNROUTABLE(false),
        /** The channel or connection closed before the broker confirmed. */
        CONNECTION_LOST(true),
        /** No confirm arrived within the timeout. */
        TIMEOUT(true),
        /** Too many unconfirmed messages in flight and none confirmed within the wait. */
        WINDOW_FULL(false),
        /** The broker blocked the connection (memory or disk alarm) for longer than the wait. */
        BLOCKED(false),
        /** The publisher was closed. */
        CLOSED(false),
        /**
         * The task needed its key's current revision and the revision store did not answer (the cause says why);
         * nothing was sent.
         */
        REVISION_UNAVAILABLE(false),
        /**
         * The task is delayed (or a coalesced run due later) and the publisher does not know its queue's delay tiers
         * ({@link TaskPublisher.Builder#queues}), or the delay needs more hops than the tiers allow; nothing was
         * sent.
         */
        NOT_SCHEDULABLE(false),
        /**
         * The task is coalesced and the publisher has no coordination store, or the store did not answer (the cause
         * says why); nothing was sent and nothing was absorbed.
         */
        COALESCING_UNAVAILABLE(false);

        private final boolean mayHaveArrived;

        Reason(boolean mayHaveArrived) {
            this.mayHaveArrived = mayHaveArrived;
        }
    }

    private final Reason reason;
    private final boolean mayHaveArrived;

    public PublishException(Reason reason, String message) {
        super(message);
        this.reason = reason;
        this.mayHaveArrived = reason.mayHaveArrived;
    }

    public PublishException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.mayHaveArrived = reason.mayHaveArrived;
    }

    /**
     * For a failure whose uncertainty differs from its reason's usual one, e.g. {@code CLOSED} for a message that
     * was already sent when the publisher closed before its confirm arrived.
     */
    public PublishException(Reason reason, boolean mayHaveArrived, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.mayHaveArrived = mayHaveArrived;
    }

    public Reason reason() {
        return reason;
    }

    /** True when the broker may have stored the message although it was not confirmed. */
    public boolean mayHaveArrived() {
        return mayHaveArrived;
    }
}
