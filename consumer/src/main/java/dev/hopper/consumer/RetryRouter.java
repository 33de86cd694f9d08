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
        // It ran and settled: no longer a suspect of crashing its workers.
        changes.put(Headers.SUSPECT, null);
        if (firstAttemptAt != null) {
            // Only a run sets the first-attempt time; a lock wait did not run anything.
            changes.put(Headers.FIRST_ATTEMPT_AT, firstAttemptAt.toString());
            // A delayed task that ran is past its time: the retry waits for its own tier only, and its lateness is
            // not counted again.
            changes.put(Headers.NOT_BEFORE, null);
            changes.put(Headers.HOPS, null);
        }
        if (lastError != null) {
            changes.put(Headers.ERROR_CLASS, lastError.getClass().getName());
            changes.put(Headers.ERROR_MESSAGE,
                    Headers.truncate(String.valueOf(lastError.getMessage()), Headers.ERROR_MESSAGE_MAX_CHARS));
        }
        CoalescedRun run = d.coalesced();
        if (run != null) {
            // The retry runs what this run claimed, without claiming again.
            changes.put(Headers.COALESCED, run.absorbed());
        }
        AMQP.BasicProperties props = dev.hopper.topology.EnvelopeCodec.republished(original, changes);
        return channel.publish("", QueueNames.retryQueue(queue, d.tier()), props, run == null ? body : run.body());
    }

    /**
     * The copy of a task that is still early, for a delay tier: its not-before (possibly moved, for a coalesced run)
     * and hop count updated, nothing else. Confirmed by the broker when the future completes.
     */
    CompletableFuture<Void> hop(String queue, AMQP.BasicProperties original, byte[] body, Decision.Hop d) {
        Map<String, @Nullable Object> changes = new HashMap<>();
        changes.put(Headers.NOT_BEFORE, d.notBefore().toEpochMilli());
        changes.put(Headers.HOPS, d.hops());
        AMQP.BasicProperties props = dev.hopper.topology.EnvelopeCodec.republished(original, changes);
        return channel.publish("", QueueNames.retryQueue(queue, d.tier()), props, body);
    }

    /**
     * The copy of a suspect (a delivery that may crash its workers), through a delay tier back to the work queue:
     * marked {@code x-hopper-suspect} = {@code q.soloStarts()}, everything else unchanged, and with no broker headers,
     * so its delivery count starts again at 0.
     */
    CompletableFuture<Void> quarantine(String queue, AMQP.BasicProperties original, byte[] body,
            Decision.Quarantine q) {
        Map<String, @Nullable Object> changes = new HashMap<>();
        changes.put(Headers.SUSPECT, q.soloStarts());
        AMQP.BasicProperties props = dev.hopper.topology.EnvelopeCodec.republished(original, changes);
        return channel.publish("", QueueNames.retryQueue(queue, q.tier()), props, body);
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
