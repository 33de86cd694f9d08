package dev.hopper.ops.dlq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.ShutdownSignalException;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.HopperException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Reads one dead queue in order on a dedicated channel and holds every delivery unacknowledged until
 * {@link #close()}, which hands back (in their original order) all that were not {@link #ack acknowledged}.
 * See the package documentation for why this keeps order and loses nothing.
 *
 * <p>A scan visits at most the messages that were ready when it started (later arrivals stay behind them,
 * untouched) and holds at most {@link #MAX_HELD} unacknowledged messages at once (the largest AMQP prefetch);
 * when that many are held and none can be acknowledged, the scan ends early and says so in its summary.
 *
 * <p>Threading: {@link #run} is called by one thread; {@link #ack} may be called from any thread (confirm
 * callbacks). Refuses to start while the queue has other consumers: two readers would interleave and reorder.
 */
final class DeadQueueScan implements AutoCloseable {
    /** The largest prefetch AMQP allows: how many dead letters one scan can hold back at once. */
    static final int MAX_HELD = 65_535;

    /** How long to wait for a previous reader of the queue to be gone, and for our own to be gone on close. */
    static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(5);

    /** The longest a scan waits for the next delivery before it ends with fewer than the depth it started with. */
    static final Duration STALL_LIMIT = Duration.ofSeconds(60);

    private static final Delivery END = new Delivery(null, null, null);

    /** What a visitor wants after seeing one dead letter. */
    enum Step { CONTINUE, STOP }

    /** Sees dead letters in queue order. */
    @FunctionalInterface
    interface Visitor {
        Step visit(DeadLetter letter, long deliveryTag);
    }

    /**
     * @param depth ready messages when the scan started
     * @param scanned messages visited
     * @param windowFull true when the scan ended because it held back as many messages as it may
     */
    record Summary(long depth, long scanned, boolean windowFull, int maxHeld) {}

    private final BrokerConnection connection;
    private final String deadQueue;
    private final Channel channel;
    private final long depth;
    private final Duration idleTimeout;
    private final int maxHeld;
    private final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private volatile @Nullable String lostReason;
    private boolean started;

    private DeadQueueScan(BrokerConnection connection, String deadQueue, Channel channel, long depth,
            Duration idleTimeout, int maxHeld) {
        this.connection = connection;
        this.maxHeld = maxHeld;
        this.deadQueue = deadQueue;
        this.channel = channel;
        this.depth = depth;
        this.idleTimeout = idleTimeout;
    }

    /**
     * Opens a channel on {@code connection} and starts consuming {@code deadQueue}.
     *
     * @param idleTimeout how long to wait for the next delivery before deciding the queue has no more for us
     * @param maxHeld the prefetch: how many unacknowledged messages the scan may hold ({@link #MAX_HELD} at most)
     * @throws HopperException when the queue does not exist, has other consumers, or the broker fails
     */
    static DeadQueueScan open(BrokerConnection connection, String deadQueue, Duration idleTimeout, int maxHeld) {
        if (maxHeld < 1 || maxHeld > MAX_HELD) {
            throw new IllegalArgumentException("maxHeld must be 1.." + MAX_HELD + ", was " + maxHeld);
        }
        Channel ch = connection.openChannel();
        try {
            AMQP.Queue.DeclareOk ok;
            try {
                ok = awaitNoConsumers(ch, deadQueue);
            } catch (IOException e) {
                throw new HopperException("dead-letter queue '" + deadQueue + "' does not exist on "
                        + connection.redactedUri() + "; check --queue, or create it with 'hopper topology declare'");
            }
            if (ok.getConsumerCount() > 0) {
                throw new HopperException("dead-letter queue '" + deadQueue + "' has " + ok.getConsumerCount()
                        + " consumer(s) after waiting " + SETTLE_TIMEOUT.toSeconds() + "s: another hopper dlq "
                        + "command (or a stray consumer) is reading it, and two readers would reorder it; wait for it "
                        + "to finish and run this again");
            }
            DeadQueueScan scan = new DeadQueueScan(connection, deadQueue, ch, ok.getMessageCount(), idleTimeout,
                    maxHeld);
            if (scan.depth > 0) {
                scan.start();
            }
            return scan;
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            if (e instanceof HopperException h) {
                throw h;
            }
            throw new HopperException("cannot read dead-letter queue '" + deadQueue + "': " + e.getMessage(), e);
        }
    }

    /**
     * Passive-declares the queue until it has no consumers, for up to {@link #SETTLE_TIMEOUT}. A reader that just
     * ended (this process's previous pass, or a killed one) is removed by the quorum queue asynchronously, in the
     * same step that hands its messages back; starting before that step would see the queue out of order.
     */
    private static AMQP.Queue.DeclareOk awaitNoConsumers(Channel ch, String queue) throws IOException {
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        while (true) {
            AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(queue);
            if (ok.getConsumerCount() == 0 || System.nanoTime() - deadline > 0) {
                return ok;
            }
            try {
                Thread.sleep(50); // polling the broker: it offers no notification for "consumer gone"
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ok;
            }
        }
    }

    private void start() throws IOException {
        started = true;
        channel.basicQos(maxHeld);
        channel.addShutdownListener(cause -> {
            lostReason = describe(cause);
            deliveries.add(END);
        });
        channel.basicConsume(deadQueue, false, "hopper-dlq", false, false, null,
                (tag, delivery) -> {
                    delivered.incrementAndGet();
                    deliveries.add(delivery);
                },
                tag -> {
                    lostReason = "the broker cancelled the consumer (queue deleted?)";
                    deliveries.add(END);
                });
    }

    String deadQueue() {
        return deadQueue;
    }

    /** Ready messages when the scan started. */
    long depth() {
        return depth;
    }

    /**
     * Visits dead letters in queue order until the visitor says {@link Step#STOP}, every message that was ready at
     * the start has been visited, or no further message arrives within the idle timeout.
     *
     * @throws HopperException when the channel is lost mid-scan (every unacknowledged message is back in the
     *     queue by then)
     */
    Summary run(Visitor visitor) {
        long scanned = 0;
        boolean windowFull = false;
        long lastProgress = System.nanoTime();
        while (scanned < depth) {
            Delivery d;
            try {
                d = deliveries.poll(idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HopperException("interrupted while reading '" + deadQueue + "'; nothing was lost", e);
            }
            if (d == END) {
                throw new HopperException("lost the channel while reading '" + deadQueue + "' (" + lostReason
                        + "); nothing was lost: unacknowledged dead letters went back to the queue");
            }
            if (d == null) {
                // Nothing more arrives: either we hold as many as a channel may, or someone else took the rest.
                windowFull = delivered.get() - acked.get() >= maxHeld;
                if (!windowFull && System.nanoTime() - lastProgress < STALL_LIMIT.toNanos()) {
                    // Fewer than depth seen: right after a large hand-back a quorum queue reads the returned messages
                    // back from its log before delivering again (about 10 s for 100,000 measured on 3.10), so a quiet
                    // spell is not the end; only a long one is (the rest expired or another reader took it).
                    continue;
                }
                break;
            }
            lastProgress = System.nanoTime();
            scanned++;
            Step step = visitor.visit(DeadLetter.of(d.getProperties(), d.getBody()), d.getEnvelope().getDeliveryTag());
            if (step == Step.STOP) {
                break;
            }
        }
        return new Summary(depth, scanned, windowFull, maxHeld);
    }

    /**
     * Acknowledges one delivery: the broker removes it from the dead queue. Thread-safe.
     *
     * @throws HopperException when the channel is gone (the message then stays in the dead queue)
     */
    /**
     * A synchronous round trip on the reading channel: when it returns, the broker's channel has processed every
     * acknowledgement sent before it, so a crash from now on returns none of those dead letters to the queue.
     */
    void syncAcks() {
        try {
            channel.queueDeclarePassive(deadQueue);
        } catch (IOException | AlreadyClosedException e) {
            throw new HopperException("cannot reach the dead queue '" + deadQueue + "' (" + e.getMessage() + ")", e);
        }
    }

    void ack(long deliveryTag) {
        try {
            channel.basicAck(deliveryTag, false);
            acked.incrementAndGet();
        } catch (IOException | AlreadyClosedException e) {
            throw new HopperException("cannot acknowledge a dead letter of '" + deadQueue + "' (" + e.getMessage()
                    + "); it stays in the dead queue", e);
        }
    }

    /**
     * Closes the channel: the broker puts every unacknowledged dead letter back, in its original order. Returns
     * once the queue shows no consumer of ours any more (at most {@link #SETTLE_TIMEOUT}), so that when a command
     * ends the queue is back in order and the next command cannot overtake the hand-back.
     */
    @Override
    public void close() {
        closeQuietly(channel);
        if (!started) {
            return;
        }
        try {
            Channel probe = connection.openChannel();
            try {
                awaitNoConsumers(probe, deadQueue);
            } finally {
                closeQuietly(probe);
            }
        } catch (IOException | RuntimeException e) {
            // The connection is gone: the broker hands everything back on its own; nothing to wait for here.
        }
    }

    private static void closeQuietly(Channel ch) {
        try {
            if (ch.isOpen()) {
                ch.close();
            }
        } catch (IOException | TimeoutException | AlreadyClosedException e) {
            // Closing failed because the channel or connection is already gone: the broker has released it all.
        }
    }

    private static String describe(ShutdownSignalException cause) {
        Object reason = cause.getReason();
        if (reason instanceof AMQP.Channel.Close c) {
            return c.getReplyCode() + " " + c.getReplyText();
        }
        return String.valueOf(cause.getMessage());
    }
}
