package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.RetryReason;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Publishes retry copies: to the delay queue {@code Q.retry.<tier>} (whose TTL dead-letters it back into
 * {@code Q}), or straight back to {@code Q} after a revision change. Copies are new property objects without the
 * broker's {@code x-death} headers; the original delivery is never modified. Thread-safe.
 */
final class RetryRouter {
    private final CopyPublisher channel;

    RetryRouter(CopyPublisher channel) {
        this.channel = channel;
    }

    /** The copy for a delay tier, confirmed by the broker when the future completes. */
    CompletableFuture<Void> retryLater(String queue, AMQP.BasicProperties original, byte[] body,
            Decision.RetryLater d) {
        Instant firstAttemptAt = d.firstAttemptAt();
        Throwable lastError = d.error();
        Map<String, @Nullable Object> changes = new HashMap<>();
        changes.put(Headers.ATTEMPT, d.nextAttempt());
        changes.put(Headers.RETRY_REASON, d.reason().wireValue());
        changes.put(Headers.LOCK_WAITS, d.lockWaits() > 0 ? d.lockWaits() : null);
        if (firstAttemptAt != null) {
            // Only a run sets the first-attempt time; a lock wait did not run anything.
            changes.put(Headers.FIRST_ATTEMPT_AT, firstAttemptAt.toString());
        }
        if (lastError != null) {
            changes.put(Headers.ERROR_CLASS, lastError.getClass().getName());
            changes.put(Headers.ERROR_MESSAGE,
                    Headers.truncate(String.valueOf(lastError.getMessage()), Headers.ERROR_MESSAGE_MAX_CHARS));
        }
        AMQP.BasicProperties props = dev.hopper.topology.EnvelopeCodec.republished(original, changes);
        return channel.publish("", QueueNames.retryQueue(queue, d.tier()), props, body);
    }

    /** The copy for the work queue itself, attempt unchanged. */
    CompletableFuture<Void> requeueNow(String queue, AMQP.BasicProperties original, byte[] body, RetryReason reason,
            Instant firstAttemptAt) {
        Map<String, @Nullable Object> changes = new HashMap<>();
        changes.put(Headers.RETRY_REASON, reason.wireValue());
        changes.put(Headers.FIRST_ATTEMPT_AT, firstAttemptAt.toString());
        return channel.publish(QueueNames.TASKS_EXCHANGE, queue,
                dev.hopper.topology.EnvelopeCodec.republished(original, changes), body);
    }

    /**
     * An unchanged copy for the work queue, without the broker's headers: a deliberate hand-back (breaker open, store
     * down) that must not raise the broker's delivery count, which RabbitMQ before 4.3 raises on every nack and the
     * poison guard reads.
     */
    CompletableFuture<Void> handBack(String queue, AMQP.BasicProperties original, byte[] body) {
        return channel.publish(QueueNames.TASKS_EXCHANGE, queue,
                dev.hopper.topology.EnvelopeCodec.republished(original, Map.of()), body);
    }
}
