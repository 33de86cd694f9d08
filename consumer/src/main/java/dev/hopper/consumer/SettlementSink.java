package dev.hopper.consumer;

import java.io.IOException;

/**
 * Where settlements of one consuming channel go: ack, reject+requeue, nack+requeue by delivery tag. The channel's
 * owner is the only writer of acks for it (conventions §10). An implementation may hold acks back and coalesce
 * them ({@code basic.ack multiple=true}) as long as each is sent in a bounded time, as {@link AckCoalescer}'s do.
 * Calls may come from any handler thread; amqp-client serializes frames on a channel.
 */
interface SettlementSink {

    void ack(long deliveryTag) throws IOException;

    /**
     * {@link #ack} from a thread that must not wait (a store client's I/O thread): a sink that coalesces acks
     * records it and leaves every frame to its flusher. This default sends it like {@link #ack}.
     */
    default void ackWithoutSending(long deliveryTag) throws IOException {
        ack(deliveryTag);
    }

    /** Reject with requeue: every RabbitMQ version counts it toward the delivery limit. */
    void rejectRequeue(long deliveryTag) throws IOException;

    /** Nack with requeue: RabbitMQ 4.3+ does not count it as a failed delivery. */
    void nackRequeue(long deliveryTag) throws IOException;
}
