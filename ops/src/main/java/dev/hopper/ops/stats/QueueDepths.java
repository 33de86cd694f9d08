package dev.hopper.ops.stats;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Depth and consumer count of every work, retry-tier and dead queue of a configuration, read with passive
 * declares (no management plugin needed; nothing is created). A passive declare reports ready messages only:
 * messages delivered to a consumer and not yet acknowledged are not counted. Use from one thread at a time.
 */
public final class QueueDepths {

    /** Which role a queue plays for its work queue. */
    public enum Kind { WORK, RETRY, DEAD }

    /**
     * One queue.
     *
     * @param tier the delay tier label for a retry queue, else null
     * @param messages ready messages, or null when the queue does not exist
     * @param consumers consumers, or null when the queue does not exist
     */
    public record Depth(String workQueue, String queue, Kind kind, @Nullable String tier, @Nullable Long messages,
            @Nullable Integer consumers) {
        public boolean exists() {
            return messages != null;
        }
    }

    private final BrokerConnection connection;

    public QueueDepths(BrokerConnection connection) {
        this.connection = requireNonNull(connection, "connection");
    }

    /** Every queue of {@code config}, each work queue followed by its tiers (shortest first) and its dead queue. */
    public List<Depth> read(HopperConfig config) {
        List<Depth> out = new ArrayList<>();
        for (QueueSpec q : config.queues().values()) {
            out.add(read(q.name(), q.name(), Kind.WORK, null));
            for (DelayTier t : q.tiers()) {
                out.add(read(q.name(), q.retryQueue(t), Kind.RETRY, t.label()));
            }
            out.add(read(q.name(), q.deadQueue(), Kind.DEAD, null));
        }
        return out;
    }

    private Depth read(String workQueue, String queue, Kind kind, @Nullable String tier) {
        // A passive declare of a missing queue closes its channel, so each queue gets its own.
        Channel ch = connection.openChannel();
        try {
            AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(queue);
            return new Depth(workQueue, queue, kind, tier, (long) ok.getMessageCount(), ok.getConsumerCount());
        } catch (IOException e) {
            if (!ch.isOpen()) {
                return new Depth(workQueue, queue, kind, tier, null, null);
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
