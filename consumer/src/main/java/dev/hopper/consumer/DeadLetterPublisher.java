package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueNames;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Publishes dead letters to {@code hopper.dead} (routing key = work queue, so they land in {@code Q.dead}) with
 * the reason, the error's class, message and stack (each truncated to a bounded size well under frame_max),
 * when and where it died, and the queue it came from. Builds a new message; the original is never modified.
 * Thread-safe.
 */
final class DeadLetterPublisher {
    private final CopyPublisher channel;
    private final Clock clock;
    private final String workerId;

    DeadLetterPublisher(CopyPublisher channel, Clock clock, String workerId) {
        this.channel = channel;
        this.clock = clock;
        this.workerId = workerId;
    }

    /**
     * @param original the delivery's properties (null when the broker sent none)
     */
    CompletableFuture<Void> deadLetter(String queue, AMQP.@Nullable BasicProperties original, byte[] body,
            Decision.DeadLetter d) {
        Integer attempts = d.attemptsHeader();
        Map<String, @Nullable Object> changes = new HashMap<>();
        changes.put(Headers.DEAD_REASON, d.reason().wireValue());
        changes.put(Headers.ERROR_CLASS, d.errorClass());
        changes.put(Headers.ERROR_MESSAGE, d.errorMessage() == null ? null
                : Headers.truncate(d.errorMessage(), Headers.ERROR_MESSAGE_MAX_CHARS));
        changes.put(Headers.ERROR_STACK, d.error() == null ? null
                : Headers.truncate(stackOf(d.error()), Headers.ERROR_STACK_MAX_CHARS));
        changes.put(Headers.FAILED_AT, clock.instant().toString());
        changes.put(Headers.WORKER, workerId);
        changes.put(Headers.ORIGIN_QUEUE, queue);
        changes.put(Headers.RETRY_REASON, null);
        if (attempts != null) {
            changes.put(Headers.ATTEMPT, attempts);
        }
        AMQP.BasicProperties base = original != null ? original
                : new AMQP.BasicProperties.Builder().deliveryMode(2).build();
        return channel.publish(QueueNames.DEAD_EXCHANGE, queue, EnvelopeCodec.republished(base, changes), body);
    }

    private static String stackOf(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }
}
