package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import dev.hopper.topology.HopperException;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * Reads a queue's ready-message and consumer counts with a passive declare: no management plugin needed, and
 * nothing is created. A passive declare counts ready messages only: messages delivered to a consumer and not yet
 * acknowledged are not included. Each call uses a channel of its own, because the broker closes the channel of a
 * passive declare of a missing queue. Thread-safe (one channel per call); each call is one broker round trip,
 * bounded by the connection's RPC timeout.
 */
public final class QueueProbe {

    /**
     * @param messages ready messages
     * @param consumers consumers subscribed to the queue
     */
    public record Counts(long messages, int consumers) {}

    private final BrokerConnection connection;

    public QueueProbe(BrokerConnection connection) {
        this.connection = requireNonNull(connection, "connection");
    }

    /**
     * The counts of {@code queue}, or empty when it does not exist.
     *
     * @throws HopperException when the broker cannot be asked
     */
    public Optional<Counts> counts(String queue) {
        Channel ch = connection.openChannel();
        try {
            AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(queue);
            return Optional.of(new Counts(ok.getMessageCount(), ok.getConsumerCount()));
        } catch (IOException e) {
            if (!ch.isOpen()) {
                return Optional.empty(); // 404 NOT_FOUND closed the channel
            }
            throw new HopperException("cannot read the depth of '" + queue + "': " + e.getMessage(), e);
        } finally {
            try {
                if (ch.isOpen()) {
                    ch.close();
                }
            } catch (IOException | TimeoutException | AlreadyClosedException e) {
                // Already closed by the broker's NOT_FOUND reply.
            }
        }
    }
}
