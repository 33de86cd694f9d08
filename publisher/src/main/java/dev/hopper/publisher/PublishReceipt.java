package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Proof that the broker has a task: it confirmed the (persistent, mandatory, routed) message. For a coalesced task
 * absorbed into a pending run ({@link #absorbed()}), proof that the coordination store holds its payload for that
 * run instead: no message was sent.
 *
 * @param messageId the task's message id
 * @param queue the work queue it was routed to (for a delayed task: through that queue's delay tiers)
 * @param revision the revision it was published against, or null when it has no key or no revision store
 * @param confirmedAt when the confirm (or the store's answer) arrived, on the publisher's clock
 * @param notBefore when the task (or the run that absorbed it) may run, or null for at once
 * @param coalescedInto for an absorbed coalesced task, the message id of the pending run that will carry its
 *     payload; else null
 */
public record PublishReceipt(String messageId, String queue, @Nullable Long revision, Instant confirmedAt,
        @Nullable Instant notBefore, @Nullable String coalescedInto) {
    public PublishReceipt {
        requireNonNull(messageId, "messageId");
        requireNonNull(queue, "queue");
        requireNonNull(confirmedAt, "confirmedAt");
    }

    /** True when no message was sent because a pending coalesced run absorbed the task. */
    public boolean absorbed() {
        return coalescedInto != null;
    }
}
