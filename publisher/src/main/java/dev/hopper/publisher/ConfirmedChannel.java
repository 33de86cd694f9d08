package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A confirm-mode channel that any number of threads may publish on. Each {@link #publish} is {@code mandatory}
 * and returns a future that completes when the broker confirms the message and fails with
 * {@link PublishException} when it is nacked, returned as unroutable, not confirmed within the confirm timeout,
 * or when the channel or connection closes first. Every outstanding future is failed on a close: none is ever
 * left hanging.
 *
 * <p>Back-pressure: at most {@code maxInFlight} messages are unconfirmed at once. A publish waits up to
 * {@code windowWait} for room (and for the broker to lift a {@code connection.blocked} alarm), then fails with
 * {@code WINDOW_FULL} or {@code BLOCKED}, so unconfirmed messages never pile up in memory.
 *
 * <p>Futures are completed on a dedicated thread, never on the connection's I/O thread, so callers may chain
 * channel operations (an ack on another channel) onto them safely; keep such stages short. If the broker closes
 * the channel itself (a channel error), the next publish opens a fresh one.
 */
public final class ConfirmedChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfirmedChannel.class);

    private final BrokerConnection connection;
    private final Semaphore window;
    private final Duration windowWait;
    private final Duration confirmTimeout;
    private final Object publishLock = new Object();
    private final ConcurrentNavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
    private final ExecutorService completer;
    private final ScheduledExecutorService sweeper;
    private @Nullable Channel channel;
    private volatile boolean closed;

    private static final class Pending {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        final String exchange;
        final String routingKey;
        final @Nullable String messageId;
        final long deadlineNanos;
        volatile @Nullable String returnedText;

        Pending(String exchange, String routingKey, @Nullable String messageId, long deadlineNanos) {
            this.exchange = exchange;
            this.routingKey = routingKey;
            this.messageId = messageId;
            this.deadlineNanos = deadlineNanos;
        }
    }

    /**
     * @param maxInFlight the most unconfirmed messages at once
     * @param windowWait how long a publish waits for room in the window or for the broker to unblock
     * @param confirmTimeout how long a message may stay unconfirmed before its future fails with TIMEOUT
     */
    public ConfirmedChannel(BrokerConnection connection, int maxInFlight, Duration windowWait, Duration confirmTimeout) {
        this.connection = requireNonNull(connection, "connection");
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1, was " + maxInFlight);
        }
        this.window = new Semaphore(maxInFlight);
        this.windowWait = requireNonNull(windowWait, "windowWait");
        this.confirmTimeout = requireNonNull(confirmTimeout, "confirmTimeout");
        String name = "hopper-confirms-" + connection.config().connectionName();
        this.completer = Executors.newSingleThreadExecutor(r -> daemon(r, name));
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name + "-timeouts"));
        long period = Math.max(50, Math.min(1000, confirmTimeout.toMillis() / 4));
        sweeper.scheduleWithFixedDelay(this::failExpired, period, period, TimeUnit.MILLISECONDS);
        synchronized (publishLock) {
            channel = openChannel();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Publishes one message with {@code mandatory=true}. Blocks only while the window is full or the broker
     * blocks the connection (up to {@code windowWait}); otherwise returns at once.
     *
     * @return completes when the broker has the message; fails with {@link PublishException}
     */
    public CompletableFuture<Void> publish(String exchange, String routingKey, AMQP.BasicProperties props,
            byte[] body) {
        requireNonNull(exchange, "exchange");
        requireNonNull(routingKey, "routingKey");
        requireNonNull(props, "props");
        requireNonNull(body, "body");
        if (closed) {
            return CompletableFuture.failedFuture(new PublishException(PublishException.Reason.CLOSED,
                    "publisher is closed"));
        }
        try {
            if (!connection.awaitUnblocked(windowWait)) {
                return CompletableFuture.failedFuture(new PublishException(PublishException.Reason.BLOCKED,
                        "the broker blocks publishing (" + connection.blockedReason() + ") for longer than "
                                + windowWait.toMillis() + "ms; free memory or disk on the broker"));
            }
            if (!window.tryAcquire(windowWait.toMillis(), TimeUnit.MILLISECONDS)) {
                return CompletableFuture.failedFuture(new PublishException(PublishException.Reason.WINDOW_FULL,
                        "no confirm arrived for " + windowWait.toMillis() + "ms with the window of unconfirmed "
                                + "messages full; the broker is slow or overloaded"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new PublishException(PublishException.Reason.CLOSED,
                    "interrupted while waiting to publish", e));
        }
        Pending p = new Pending(exchange, routingKey, props.getMessageId(),
                System.nanoTime() + confirmTimeout.toNanos());
        synchronized (publishLock) {
            long seq = -1;
            try {
                Channel ch = currentChannel();
                seq = ch.getNextPublishSeqNo();
                pending.put(seq, p);
                ch.basicPublish(exchange, routingKey, true, props, body);
            } catch (IOException | AlreadyClosedException | PublishException e) {
                if (seq >= 0) {
                    pending.remove(seq);
                }
                window.release();
                return CompletableFuture.failedFuture(e instanceof PublishException pe ? pe
                        : new PublishException(PublishException.Reason.CONNECTION_LOST,
                                "cannot publish to " + describe(exchange, routingKey) + ": " + e.getMessage(), e));
            }
        }
        return p.future;
    }

    /** Unconfirmed messages right now. */
    public int inFlight() {
        return pending.size();
    }

    private Channel currentChannel() {
        Channel ch = channel;
        if (ch != null && ch.isOpen()) {
            return ch;
        }
        if (!connection.isOpen()) {
            throw new PublishException(PublishException.Reason.CONNECTION_LOST,
                    "connection to " + connection.redactedUri() + " is down (recovering)");
        }
        // The broker closed this channel on its own (automatic recovery does not reopen those): open another.
        channel = openChannel();
        return channel;
    }

    private Channel openChannel() {
        Channel ch = connection.openChannel();
        try {
            ch.confirmSelect();
        } catch (IOException e) {
            throw new PublishException(PublishException.Reason.CONNECTION_LOST, "cannot enable confirms", e);
        }
        ch.addConfirmListener(new ConfirmListener() {
            @Override
            public void handleAck(long seq, boolean multiple) {
                settle(seq, multiple, null);
            }

            @Override
            public void handleNack(long seq, boolean multiple) {
                settle(seq, multiple, "nacked");
            }
        });
        ch.addReturnListener((ReturnListener) (code, text, exchange, routingKey, props, body) -> {
            // The return precedes the ack of the same message; mark it so the ack fails the future.
            for (Pending p : pending.values()) {
                if (p.returnedText == null && p.exchange.equals(exchange) && p.routingKey.equals(routingKey)
                        && Objects.equals(p.messageId, props.getMessageId())) {
                    p.returnedText = code + " " + text;
                    break;
                }
            }
        });
        ch.addShutdownListener((ShutdownListener) cause -> failAll(cause));
        return ch;
    }

    private void settle(long seq, boolean multiple, @Nullable String nack) {
        Map<Long, Pending> done = multiple ? pending.headMap(seq, true) : pending.subMap(seq, true, seq, true);
        for (Long s : done.keySet()) {
            Pending p = pending.remove(s);
            if (p == null) {
                continue;
            }
            window.release();
            String returned = p.returnedText;
            if (returned != null) {
                fail(p, new PublishException(PublishException.Reason.UNROUTABLE, "unroutable: no queue for "
                        + describe(p.exchange, p.routingKey) + " (" + returned + "); declare the topology first"));
            } else if (nack != null) {
                fail(p, new PublishException(PublishException.Reason.NACKED, "the broker refused the message for "
                        + describe(p.exchange, p.routingKey) + " (nack: queue full with reject-publish, or an "
                        + "internal error)"));
            } else {
                completer.execute(() -> p.future.complete(null));
            }
        }
    }

    private void failAll(ShutdownSignalException cause) {
        if (pending.isEmpty()) {
            return;
        }
        String why = cause.isHardError() ? "connection closed" : "channel closed";
        String text = String.valueOf(cause.getReason() == null ? cause.getMessage() : cause.getReason().protocolMethodName());
        int n = 0;
        for (Long s : pending.keySet()) {
            Pending p = pending.remove(s);
            if (p != null) {
                window.release();
                n++;
                fail(p, new PublishException(PublishException.Reason.CONNECTION_LOST,
                        why + " before the broker confirmed (" + text + "); the message may or may not have arrived",
                        cause));
            }
        }
        if (n > 0) {
            log.warn("failed unconfirmed publishes count={} reason={}", n, why);
        }
    }

    private void failExpired() {
        long now = System.nanoTime();
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            if (now - e.getValue().deadlineNanos < 0) {
                break; // ordered by sequence number, so roughly by deadline
            }
            Pending p = pending.remove(e.getKey());
            if (p != null) {
                window.release();
                fail(p, new PublishException(PublishException.Reason.TIMEOUT, "no confirm within "
                        + confirmTimeout.toMillis() + "ms for " + describe(p.exchange, p.routingKey),
                        new TimeoutException()));
            }
        }
    }

    private void fail(Pending p, PublishException e) {
        completer.execute(() -> p.future.completeExceptionally(e));
    }

    private static String describe(String exchange, String routingKey) {
        return exchange.isEmpty() ? "queue '" + routingKey + "'" : "exchange '" + exchange + "' key '" + routingKey + "'";
    }

    /**
     * Waits up to {@code drain} for outstanding confirms, fails what is left with {@code CLOSED}, and closes the
     * channel. Idempotent.
     */
    public void close(Duration drain) {
        if (closed) {
            return;
        }
        closed = true;
        long deadline = System.nanoTime() + drain.toNanos();
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10); // waiting for the broker's confirms, which arrive on another thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Long s : pending.keySet()) {
            Pending p = pending.remove(s);
            if (p != null) {
                fail(p, new PublishException(PublishException.Reason.CLOSED, "publisher closed before the broker "
                        + "confirmed; the message may or may not have arrived"));
            }
        }
        synchronized (publishLock) {
            Channel ch = channel;
            if (ch != null && ch.isOpen()) {
                try {
                    ch.close();
                } catch (IOException | TimeoutException | AlreadyClosedException e) {
                    log.debug("error closing confirm channel: {}", e.toString());
                }
            }
        }
        sweeper.shutdownNow();
        completer.shutdown();
        try {
            completer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #close(Duration)} with a 5 second drain. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
