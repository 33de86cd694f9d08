package dev.hopper.consumer;

import com.rabbitmq.client.Channel;
import java.io.IOException;

/**
 * Where settlements of one consuming channel go: ack, reject+requeue, nack+requeue by delivery tag. The channel's
 * owner is the only writer of acks for it (conventions §10). An implementation may hold acks back and coalesce
 * them ({@code basic.ack multiple=true}) as long as each is sent in a bounded time; the one here sends each at once.
 * Calls may come from any handler thread; amqp-client serializes frames on a channel.
 */
interface SettlementSink {

    void ack(long deliveryTag) throws IOException;

    /** Reject with requeue: every RabbitMQ version counts it toward the delivery limit. */
    void rejectRequeue(long deliveryTag) throws IOException;

    /** Nack with requeue: RabbitMQ 4.3+ does not count it as a failed delivery. */
    void nackRequeue(long deliveryTag) throws IOException;

    /** Settlements straight onto {@code channel}, one frame each. */
    static SettlementSink of(Channel channel) {
        return new SettlementSink() {
            @Override
            public void ack(long deliveryTag) throws IOException {
                channel.basicAck(deliveryTag, false);
            }

            @Override
            public void rejectRequeue(long deliveryTag) throws IOException {
                channel.basicReject(deliveryTag, true);
            }

            @Override
            public void nackRequeue(long deliveryTag) throws IOException {
                channel.basicNack(deliveryTag, false, true);
            }
        };
    }
}
