package dev.hopper.consumer;

import com.rabbitmq.client.AlreadyClosedException;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles one delivery exactly once: ack, reject-with-requeue or nack-with-requeue through its channel's
 * {@link SettlementSink}. A second settlement is a bug: it is refused and logged at ERROR (and throws under
 * {@code -ea}, i.e. in tests).
 *
 * <p>{@code reject}+requeue is used when a copy could not be published (every RabbitMQ version counts it toward
 * the delivery limit, so a persistent failure cannot loop forever); {@code nack}+requeue for deliberate
 * hand-backs (shutdown, store outage), which RabbitMQ 4.3+ does not count. If the channel is gone, the broker
 * has already requeued the delivery and the call is a logged no-op.
 */
final class Settlement {
    private static final Logger log = LoggerFactory.getLogger(Settlement.class);

    private final SettlementSink sink;
    private final long deliveryTag;
    private final String messageId;
    private final AtomicBoolean settled = new AtomicBoolean();

    Settlement(SettlementSink sink, long deliveryTag, String messageId) {
        this.sink = sink;
        this.deliveryTag = deliveryTag;
        this.messageId = messageId;
    }

    long deliveryTag() {
        return deliveryTag;
    }

    void ack() {
        if (claim("ack")) {
            call("ack", () -> sink.ack(deliveryTag));
        }
    }

    /**
     * {@link #ack} for a thread that must not wait: the sink may leave the frame to another thread
     * ({@link SettlementSink#ackWithoutSending}).
     */
    void ackWithoutSending() {
        if (claim("ack")) {
            call("ack", () -> sink.ackWithoutSending(deliveryTag));
        }
    }

    /** The message id, for logs. */
    String messageId() {
        return messageId;
    }

    void rejectRequeue() {
        if (claim("reject")) {
            call("reject", () -> sink.rejectRequeue(deliveryTag));
        }
    }

    void nackRequeue() {
        if (claim("nack")) {
            call("nack", () -> sink.nackRequeue(deliveryTag));
        }
    }

    boolean isSettled() {
        return settled.get();
    }

    private boolean claim(String what) {
        if (settled.compareAndSet(false, true)) {
            return true;
        }
        log.error("delivery settled twice id={} second={} (a bug in Hopper)", messageId, what);
        assert false : "delivery " + messageId + " settled twice";
        return false;
    }

    @FunctionalInterface
    private interface AmqpCall {
        void run() throws IOException;
    }

    private void call(String what, AmqpCall c) {
        try {
            c.run();
        } catch (IOException | AlreadyClosedException e) {
            // The channel closed: the broker requeues every unacked delivery of it by itself.
            log.warn("could not {} delivery id={} (channel closed; the broker redelivers it): {}", what, messageId,
                    e.toString());
        }
    }
}
