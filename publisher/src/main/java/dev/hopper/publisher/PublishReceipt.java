package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Proof that the broker has a task: it confirmed the (persistent, mandatory, routed) message.
 *
 * @param messageId the task's message id
 * @param queue the work queue it was routed to
 * @param revision the revision it was published against, or null when it has no key or no revision store
 * @param confirmedAt when the confirm arrived, on the publisher's clock
 */
public record PublishReceipt(String messageId, String queue, @Nullable Long revision, Instant confirmedAt) {
    public PublishReceipt {
        requireNonNull(messageId, "messageId");
        requireNonNull(queue, "queue");
        requireNonNull(confirmedAt, "confirmedAt");
    }
}
