package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Delivery;
import dev.hopper.ops.dlq.DeadLetter;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.HopperException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a dead queue without changing it: one channel (a window of at most 65,535 unacknowledged messages, like a
 * {@code hopper dlq} pass) consumes it, nothing is acknowledged, and closing the channel puts every message back at
 * the head in its original order; the read waits until the broker counts them as ready again. It never uses several
 * windows: measured on 3.10, the broker appends handed-back messages behind those still waiting from an earlier
 * hand-back, so a read that handed back more than one window would let the next pass rotate the queue. A crash closes
 * the channel and the broker puts everything back: a reader can neither lose nor duplicate a message.
 *
 * <p>Like {@code hopper dlq}, it refuses to start while the queue has other consumers (two readers would
 * interleave). Use from one thread at a time; the caller serializes readers of one queue.
 */
final class DeadQueueReader {
    /** The largest AMQP prefetch: how many messages one window (channel) holds. */
    static final int WINDOW = 65_535;
    /** How long to wait for a previous reader to be gone, and for a window's hand-back. */
    static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(10);

    /** How long to wait for the broker to count one window's messages as ready again (slow for large windows). */
    static final Duration HAND_BACK_TIMEOUT = Duration.ofSeconds(60);
    /** The longest a read waits for the next delivery before it ends with fewer than the queue held. */
    static final Duration STALL_LIMIT = Duration.ofSeconds(60);

    /** Sees dead letters in queue order; returns false to stop reading. */
    @FunctionalInterface
    interface Visitor {
        boolean visit(int position, DeadLetter letter);
    }

    /** What a read saw: ready messages when it started, and how many it visited. */
    record Result(long depth, long read) {}

    private static final Delivery END = new Delivery(null, null, null);

    private final BrokerConnection connection;
    private final Duration idleTimeout;
    private final int window;

    DeadQueueReader(BrokerConnection connection, Duration idleTimeout) {
        this(connection, idleTimeout, WINDOW);
    }

    /** @param window messages per channel; {@link #WINDOW} except in tests that cross windows cheaply */
    DeadQueueReader(BrokerConnection connection, Duration idleTimeout, int window) {
        if (window < 1 || window > WINDOW) {
            throw new IllegalArgumentException("window must be 1.." + WINDOW + ", was " + window);
        }
        this.connection = requireNonNull(connection, "connection");
        this.idleTimeout = requireNonNull(idleTimeout, "idleTimeout");
        this.window = window;
    }

    /**
     * Visits at most {@code limit} dead letters of {@code deadQueue} in queue order, then puts everything back.
     *
     * @throws HopperException when the queue is missing, has another reader, or the channel is lost (everything
     *     is back in the queue by then)
     */
    Result read(String deadQueue, long limit, Visitor visitor) {
        Channel probe = connection.openChannel();
        List<Channel> windows = new ArrayList<>();
        BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
        List<AtomicInteger> held = new ArrayList<>();
        try {
            long depth = awaitConsumers(probe, deadQueue, 0).getMessageCount();
            if (depth == 0 || limit <= 0) {
                return new Result(depth, 0);
            }
            // One window at most, like a hopper dlq pass. Measured on 3.10: the broker appends handed-back messages
            // to its queue of returned ones, behind those still there from an earlier hand-back; a read that left more
            // than a window in that queue (several windows) would let the next pass rotate the dead queue.
            long target = Math.min(Math.min(depth, limit), window);
            long read = 0;
            long lastProgress = System.nanoTime();
            while (read < target) {
                if (windows.isEmpty() || (held.get(held.size() - 1).get() >= window
                        && (long) windows.size() * window < target)) {
                    AtomicInteger counter = new AtomicInteger();
                    held.add(counter);
                    windows.add(openWindow(deadQueue, deliveries, counter, window));
                }
                Delivery d;
                try {
                    d = deliveries.poll(idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HopperException("interrupted while reading '" + deadQueue + "'; nothing was lost", e);
                }
                if (d == END) {
                    throw new HopperException("lost the channel while reading '" + deadQueue + "'; nothing was lost: "
                            + "the broker put every message back");
                }
                if (d == null) {
                    if (held.get(held.size() - 1).get() >= window && (long) windows.size() * window < target) {
                        continue; // the window filled up while we waited: open the next one
                    }
                    // After a large hand-back a quorum queue reads the returned messages back from its log before it
                    // delivers again (about 10 s for 100,000 on 3.10): only a long quiet spell ends the read early.
                    if (System.nanoTime() - lastProgress < STALL_LIMIT.toNanos()) {
                        continue;
                    }
                    break; // someone else took the rest, or the queue shrank
                }
                lastProgress = System.nanoTime();
                if (!visitor.visit((int) read, DeadLetter.of(d.getProperties(), d.getBody()))) {
                    read++;
                    break;
                }
                read++;
            }
            return new Result(depth, read);
        } catch (IOException e) {
            throw new HopperException("cannot read dead-letter queue '" + deadQueue + "' on "
                    + connection.redactedUri() + ": " + e.getMessage(), e);
        } finally {
            handBack(probe, deadQueue, windows, held);
        }
    }

    private Channel openWindow(String deadQueue, BlockingQueue<Delivery> deliveries, AtomicInteger counter,
            int prefetch) throws IOException {
        Channel ch = connection.openChannel();
        ch.basicQos(prefetch);
        ch.addShutdownListener(cause -> {
            if (!cause.isInitiatedByApplication()) {
                deliveries.add(END);
            }
        });
        ch.basicConsume(deadQueue, false, "hopper-console-index", false, false, null,
                (tag, delivery) -> {
                    counter.incrementAndGet();
                    deliveries.add(delivery);
                },
                tag -> deliveries.add(END));
        return ch;
    }

    /**
     * Closes the windows oldest first, each after the broker has counted its messages as ready again. The broker
     * puts a closed consumer's messages back ahead of the ready ones, each batch after the previous one, so the queue
     * ends in its original order. No consumer is cancelled (the broker puts a cancelled consumer's messages behind
     * the ready ones), and no window has credit left to take back an older window's messages: each was given exactly
     * its share of the read as its prefetch.
     */
    private void handBack(Channel probe, String deadQueue, List<Channel> windows, List<AtomicInteger> held) {
        try {
            for (int i = 0; i < windows.size(); i++) {
                long before = probe.queueDeclarePassive(deadQueue).getMessageCount();
                close(windows.get(i));
                awaitReady(probe, deadQueue, before + held.get(i).get());
            }
        } catch (IOException | RuntimeException e) {
            // The connection is gone: the broker puts everything back on its own.
            windows.forEach(DeadQueueReader::close);
        } finally {
            close(probe);
        }
    }

    /**
     * Waits (up to {@link #HAND_BACK_TIMEOUT}) until the queue has at least {@code expected} ready messages. New dead
     * letters only add to it; a message expiring by the queue's retention could keep it below, hence the bound.
     */
    private static void awaitReady(Channel probe, String deadQueue, long expected) throws IOException {
        long deadline = System.nanoTime() + HAND_BACK_TIMEOUT.toNanos();
        while (probe.queueDeclarePassive(deadQueue).getMessageCount() < expected
                && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(20); // the broker offers no notification for "messages returned"
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Passive-declares the queue until it has at most {@code expected} consumers, for up to
     * {@link #SETTLE_TIMEOUT}. The broker removes a closed channel's consumer asynchronously, in the same step
     * that puts its messages back.
     *
     * @throws HopperException when the queue is missing or still has more consumers (another reader)
     */
    private AMQP.Queue.DeclareOk awaitConsumers(Channel ch, String deadQueue, int expected) throws IOException {
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        while (true) {
            AMQP.Queue.DeclareOk ok;
            try {
                ok = ch.queueDeclarePassive(deadQueue);
            } catch (IOException e) {
                throw new HopperException("dead-letter queue '" + deadQueue + "' does not exist on "
                        + connection.redactedUri() + "; create it with 'hopper topology declare'");
            }
            if (ok.getConsumerCount() <= expected) {
                return ok;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new HopperException("dead-letter queue '" + deadQueue + "' has " + ok.getConsumerCount()
                        + " consumer(s): another hopper dlq command (or a stray consumer) is reading it; the console "
                        + "reads it when that is done");
            }
            try {
                Thread.sleep(50); // the broker offers no notification for "consumer gone"
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HopperException("interrupted while waiting for '" + deadQueue + "'", e);
            }
        }
    }

    private static void close(Channel ch) {
        try {
            if (ch.isOpen()) {
                ch.close();
            }
        } catch (IOException | TimeoutException | AlreadyClosedException e) {
            // Already closed: the broker has put its messages back.
        }
    }
}
