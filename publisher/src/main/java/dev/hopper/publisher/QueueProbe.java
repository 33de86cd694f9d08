package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import dev.hopper.topology.HopperException;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Reads queues' ready-message and consumer counts with passive declares: no management plugin needed, and nothing
 * is created. A passive declare counts ready messages only: messages delivered to a consumer and not yet
 * acknowledged are not included. The one depth reader of Hopper ({@code hopper stats}, the worker's
 * {@code hopper.queue.depth}).
 *
 * <p>It keeps one channel of its own and opens a new one when the broker closed it (a passive declare of a missing
 * queue closes its channel with 404). Thread-safe (calls are serialized); each call is one broker round trip,
 * bounded by the connection's RPC timeout. {@link #close()} closes the channel, not the connection.
 */
public final class QueueProbe implements AutoCloseable {

    /**
     * @param messages ready messages
     * @param consumers consumers subscribed to the queue
     */
    public record Counts(long messages, int consumers) {}

    private final BrokerConnection connection;
    private @Nullable Channel channel;

    public QueueProbe(BrokerConnection connection) {
        this.connection = requireNonNull(connection, "connection");
    }

    /**
     * The counts of {@code queue}, or empty when it does not exist.
     *
     * @throws HopperException when the broker cannot be asked (connection down, channel refused)
     */
    public synchronized Optional<Counts> counts(String queue) {
        Channel ch = channel;
        if (ch == null || !ch.isOpen()) {
            ch = connection.openChannel();
            channel = ch;
        }
        try {
            AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(queue);
            return Optional.of(new Counts(ok.getMessageCount(), ok.getConsumerCount()));
        } catch (IOException e) {
            if (!ch.isOpen() && notFound(ch)) {
                return Optional.empty(); // 404 NOT_FOUND closed the channel; the next call opens another
            }
            throw new HopperException("cannot read the depth of '" + queue + "': " + e.getMessage(), e);
        } catch (AlreadyClosedException e) {
            throw new HopperException("cannot read the depth of '" + queue + "': " + e.getMessage(), e);
        }
    }

    private static boolean notFound(Channel ch) {
        var cause = ch.getCloseReason();
        return cause != null && cause.getReason() instanceof AMQP.Channel.Close close
                && close.getReplyCode() == AMQP.NOT_FOUND;
    }

    @Override
    public synchronized void close() {
        Channel ch = channel;
        channel = null;
        if (ch != null && ch.isOpen()) {
            try {
                ch.close();
            } catch (IOException | TimeoutException | AlreadyClosedException e) {
                // Closed by the broker meanwhile: nothing left to release.
            }
        }
    }
}
