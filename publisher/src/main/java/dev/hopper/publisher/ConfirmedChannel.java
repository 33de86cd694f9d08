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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A confirm-mode channel that any number of threads may publish on. Each {@link #publish} is {@code mandatory}
 * and returns a future that completes when the broker confirms the message and fails with
 * {@link PublishException} when it is nacked, returned as unroutable, not confirmed within the confirm timeout,
 * or when the channel or connection closes first. Every outstanding future is failed on a close: none is ever
 * left hanging, and every window permit taken is given back exactly once.
 *
 * <p>Back-pressure: at most {@code maxInFlight} messages are unconfirmed at once. A publish waits up to
 * {@code windowWait} in total for the broker to lift a {@code connection.blocked} alarm and for room in the
 * window, then fails with {@code BLOCKED} or {@code WINDOW_FULL}, so unconfirmed messages never pile up in memory.
 *
 * <p>Channel lifecycle: sequence numbers belong to one AMQP channel, so each channel this class opens has its own
 * table of unconfirmed messages. When that channel shuts down for any reason (the broker closed it, the
 * connection dropped), everything unconfirmed on it fails with {@code CONNECTION_LOST}; the next publish retires
 * it (closes it, so automatic recovery stops tracking it) and opens a fresh channel once the connection is up
 * again. While the connection is down (recovering), a publish fails at once with {@code CONNECTION_LOST}. Nothing
 * is republished automatically: that is the caller's decision.
 *
 * <p>Unroutable returns are matched to their message by exchange, routing key and {@code message_id} (the
 * broker sends the return before the confirm of the same message); give every message a unique id.
 *
 * <p>Threading: thread-safe; publishes are serialized on the one channel. Confirms, returns and nacks are
 * handled on the connection's I/O thread, but futures are completed on a dedicated thread, never on the I/O
 * thread, so callers may chain channel operations (an ack on another channel) onto them safely; keep such stages
 * short and never block in them on another publish of this channel. A failure known before {@code publish}
 * returns (closed, connection down, window full) comes back as an already-failed future.
 */
public final class ConfirmedChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfirmedChannel.class);

    private final BrokerConnection connection;
    private final Semaphore window;
    private final Duration windowWait;
    private final Duration confirmTimeout;
    private final Object publishLock = new Object();
    /** Every channel that may still have unconfirmed messages: the current one and retired ones not yet drained. */
    private final Set<Generation> generations = ConcurrentHashMap.newKeySet();
    private final ExecutorService completer;
    private final ScheduledExecutorService sweeper;
    private @Nullable Generation current; // guarded by publishLock
    private volatile boolean closed;

    /** One unconfirmed message. Its future is settled and its window permit returned exactly once. */
    private final class Pending {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        final String exchange;
        final String routingKey;
        final @Nullable String messageId;
        final long deadlineNanos;
        final AtomicBoolean settled = new AtomicBoolean();
        volatile @Nullable String returnedText;

        Pending(String exchange, String routingKey, @Nullable String messageId, long deadlineNanos) {
            this.exchange = exchange;
            this.routingKey = routingKey;
            this.messageId = messageId;
            this.deadlineNanos = deadlineNanos;
        }

        /** Releases the permit and settles the future on the completer thread, once; later calls do nothing. */
        void settle(@Nullable PublishException failure) {
            if (!settled.compareAndSet(false, true)) {
                return;
            }
            window.release();
            runOnCompleter(() -> complete(failure));
        }

        /**
         * Fails the message on the publishing thread itself, for failures known before {@code publish} returns:
         * the caller gets an already-failed future (and can back off) instead of one failed a moment later.
         */
        void failNow(PublishException failure) {
            if (!settled.compareAndSet(false, true)) {
                return;
            }
            window.release();
            complete(failure);
        }

        private void complete(@Nullable PublishException failure) {
            if (failure == null) {
                future.complete(null);
            } else {
                future.completeExceptionally(failure);
            }
        }
    }

    /** One AMQP channel and the messages published on it that await their confirm, by sequence number. */
    private final class Generation {
        final Channel channel;
        final ConcurrentNavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
        volatile boolean dead;

        Generation(Channel channel) {
            this.channel = channel;
        }

        void settle(long seq, boolean multiple, boolean nack) {
            Map<Long, Pending> done = multiple ? pending.headMap(seq, true) : pending.subMap(seq, true, seq, true);
            for (Long s : done.keySet()) {
                Pending p = pending.remove(s);
                if (p == null) {
                    continue;
                }
                String returned = p.returnedText;
                if (returned != null) {
                    p.settle(new PublishException(PublishException.Reason.UNROUTABLE, "unroutable: no queue for "
                            + describe(p.exchange, p.routingKey) + " (" + returned + "); declare the topology first"));
                } else if (nack) {
                    p.settle(new PublishException(PublishException.Reason.NACKED, "the broker refused the message "
                            + "for " + describe(p.exchange, p.routingKey) + " (nack: queue full with reject-publish, "
                            + "or an internal error)"));
                } else {
                    p.settle(null);
                }
            }
        }

        void returned(int code, String text, String exchange, String routingKey, AMQP.BasicProperties props) {
            // The return precedes the confirm of the same message; mark it so the confirm fails the future.
            for (Pending p : pending.values()) {
                if (p.returnedText == null && p.exchange.equals(exchange) && p.routingKey.equals(routingKey)
                        && Objects.equals(p.messageId, props.getMessageId())) {
                    p.returnedText = code + " " + text;
                    return;
                }
            }
        }

        void shutDown(ShutdownSignalException cause) {
            dead = true;
            String why = cause.isHardError() ? "connection closed" : "channel closed";
            String text = cause.getReason() == null ? String.valueOf(cause.getMessage())
                    : cause.getReason().protocolMethodName();
            int n = failAll(new PublishException(PublishException.Reason.CONNECTION_LOST, why + " before the broker "
                    + "confirmed (" + text + "); the message may or may not have arrived", cause));
            if (n > 0) {
                log.warn("failed unconfirmed publishes count={} reason={} uri={}", n, why, connection.redactedUri());
            }
            generations.remove(this);
        }

        int failAll(PublishException e) {
            int n = 0;
            for (Long s : pending.keySet()) {
                Pending p = pending.remove(s);
                if (p != null) {
                    p.settle(e);
                    n++;
                }
            }
            return n;
        }

        void failExpired(long now) {
            for (Map.Entry<Long, Pending> e : pending.entrySet()) {
                if (now - e.getValue().deadlineNanos < 0) {
                    return; // ordered by sequence number, so (nearly) by deadline
                }
                Pending p = pending.remove(e.getKey());
                if (p != null) {
                    p.settle(new PublishException(PublishException.Reason.TIMEOUT, "no confirm within "
                            + confirmTimeout.toMillis() + "ms for " + describe(p.exchange, p.routingKey)
                            + "; the message may or may not have arrived", new TimeoutException()));
                }
            }
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
        if (windowWait.isNegative() || confirmTimeout.isNegative() || confirmTimeout.isZero()) {
            throw new IllegalArgumentException("windowWait must be >= 0 and confirmTimeout > 0");
        }
        String name = "hopper-confirms-" + connection.config().connectionName();
        this.completer = Executors.newSingleThreadExecutor(r -> daemon(r, name));
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name + "-timeouts"));
        long period = Math.max(50, Math.min(1000, confirmTimeout.toMillis() / 4));
        sweeper.scheduleWithFixedDelay(this::failExpired, period, period, TimeUnit.MILLISECONDS);
        synchronized (publishLock) {
            current = openGeneration();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Publishes one message with {@code mandatory=true}. Blocks only while the window is full or the broker
     * blocks the connection (up to {@code windowWait} in total); otherwise returns at once. Never throws for a
     * broker problem: every failure is in the returned future.
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
            return closedFuture();
        }
        long waitDeadline = System.nanoTime() + windowWait.toNanos();
        try {
            if (!connection.awaitUnblocked(windowWait)) {
                return CompletableFuture.failedFuture(new PublishException(PublishException.Reason.BLOCKED,
                        "the broker blocks publishing (" + connection.blockedReason() + ") for longer than "
                                + windowWait.toMillis() + "ms; free memory or disk on the broker"));
            }
            long left = Math.max(0, waitDeadline - System.nanoTime());
            if (!window.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                return CompletableFuture.failedFuture(new PublishException(PublishException.Reason.WINDOW_FULL,
                        "no confirm arrived for " + windowWait.toMillis() + "ms with the window of unconfirmed "
                                + "messages full; the broker is slow or overloaded"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new PublishException(PublishException.Reason.CLOSED,
                    "interrupted while waiting to publish", e));
        }
        // From here the permit belongs to p: p.settle gives it back exactly once, whoever settles first.
        Pending p = new Pending(exchange, routingKey, props.getMessageId(),
                System.nanoTime() + confirmTimeout.toNanos());
        synchronized (publishLock) {
            if (closed) {
                p.failNow(closedException());
                return p.future;
            }
            Generation gen;
            try {
                gen = currentGeneration();
            } catch (PublishException e) {
                p.failNow(e);
                return p.future;
            } catch (RuntimeException e) {
                p.failNow(new PublishException(PublishException.Reason.CONNECTION_LOST, "cannot open a channel to "
                        + connection.redactedUri() + ": " + e.getMessage(), e));
                return p.future;
            }
            long seq = gen.channel.getNextPublishSeqNo();
            gen.pending.put(seq, p);
            try {
                gen.channel.basicPublish(exchange, routingKey, true, props, body);
                if (gen.dead && gen.pending.remove(seq) != null) {
                    // The channel died (and may already be recovered with fresh sequence numbers) while we published.
                    p.failNow(new PublishException(PublishException.Reason.CONNECTION_LOST, "channel closed while "
                            + "publishing to " + describe(exchange, routingKey)
                            + "; the message may or may not have arrived"));
                }
            } catch (IOException | AlreadyClosedException e) {
                // If the shutdown listener got there first it has already failed p; settling is idempotent.
                gen.pending.remove(seq);
                p.failNow(new PublishException(PublishException.Reason.CONNECTION_LOST,
                        "cannot publish to " + describe(exchange, routingKey) + ": " + e.getMessage(), e));
            } catch (RuntimeException e) {
                // A bug rather than a broker problem: give the permit back, then let the caller see it.
                gen.pending.remove(seq);
                p.failNow(new PublishException(PublishException.Reason.CLOSED, "not published to "
                        + describe(exchange, routingKey) + ": " + e, e));
                throw e;
            }
        }
        return p.future;
    }

    /** Unconfirmed messages right now. */
    public int inFlight() {
        int n = 0;
        for (Generation g : generations) {
            n += g.pending.size();
        }
        return n;
    }

    /** Free places in the window; equals {@code maxInFlight} whenever nothing is in flight (for tests). */
    int windowRoom() {
        return window.availablePermits();
    }

    private Generation currentGeneration() {
        Generation gen = current;
        if (gen != null && !gen.dead && gen.channel.isOpen()) {
            return gen;
        }
        if (!connection.isOpen()) {
            throw new PublishException(PublishException.Reason.CONNECTION_LOST,
                    "connection to " + connection.redactedUri() + " is down (recovering); retry later");
        }
        if (gen != null) {
            retire(gen);
        }
        // The broker closed the channel, or the connection dropped and came back: start a fresh channel.
        current = openGeneration();
        return current;
    }

    /** Closes a dead channel so automatic recovery stops tracking it; its messages were failed on shutdown. */
    private void retire(Generation gen) {
        gen.dead = true;
        try {
            gen.channel.close();
        } catch (IOException | TimeoutException | RuntimeException e) {
            // Usually AlreadyClosedException: the channel is dead, which is why it is retired.
            log.debug("retired confirm channel was already closed: {}", e.toString());
        }
        gen.failAll(new PublishException(PublishException.Reason.CONNECTION_LOST, "channel was retired before "
                + "the broker confirmed; the message may or may not have arrived"));
        generations.remove(gen);
    }

    private Generation openGeneration() {
        Channel ch = connection.openChannel();
        try {
            ch.confirmSelect();
        } catch (IOException | RuntimeException e) {
            try {
                ch.abort();
            } catch (IOException | RuntimeException ignored) {
                // Already closed; nothing more to release.
            }
            throw new PublishException(PublishException.Reason.CONNECTION_LOST, "cannot enable confirms on "
                    + connection.redactedUri(), e);
        }
        Generation gen = new Generation(ch);
        ch.addConfirmListener(new ConfirmListener() {
            @Override
            public void handleAck(long seq, boolean multiple) {
                gen.settle(seq, multiple, false);
            }

            @Override
            public void handleNack(long seq, boolean multiple) {
                gen.settle(seq, multiple, true);
            }
        });
        ch.addReturnListener((ReturnListener) (code, text, exchange, routingKey, props, body) ->
                gen.returned(code, text, exchange, routingKey, props));
        ch.addShutdownListener((ShutdownListener) gen::shutDown);
        generations.add(gen);
        return gen;
    }

    private void failExpired() {
        long now = System.nanoTime();
        for (Generation g : generations) {
            g.failExpired(now);
        }
    }

    private void runOnCompleter(Runnable r) {
        try {
            completer.execute(r);
        } catch (RejectedExecutionException e) {
            r.run(); // closed: settle inline rather than leave a future hanging
        }
    }

    private static PublishException closedException() {
        return new PublishException(PublishException.Reason.CLOSED, "publisher is closed");
    }

    private static CompletableFuture<Void> closedFuture() {
        return CompletableFuture.failedFuture(closedException());
    }

    private static String describe(String exchange, String routingKey) {
        return exchange.isEmpty() ? "queue '" + routingKey + "'" : "exchange '" + exchange + "' key '" + routingKey + "'";
    }

    /**
     * Waits up to {@code drain} for outstanding confirms, fails what is left with {@code CLOSED}, and closes the
     * channel. Publishes after this fail with {@code CLOSED}. Idempotent.
     */
    public void close(Duration drain) {
        synchronized (publishLock) {
            // Under the lock: no publish is between taking its channel and registering its message.
            if (closed) {
                return;
            }
            closed = true;
        }
        long deadline = System.nanoTime() + drain.toNanos();
        while (inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10); // waiting for the broker's confirms, which arrive on another thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        PublishException e = new PublishException(PublishException.Reason.CLOSED, true, "publisher closed before "
                + "the broker confirmed; the message may or may not have arrived", null);
        for (Generation g : generations) {
            g.failAll(e);
        }
        synchronized (publishLock) {
            Generation gen = current;
            if (gen != null && gen.channel.isOpen()) {
                try {
                    gen.channel.close();
                } catch (IOException | TimeoutException | AlreadyClosedException ex) {
                    log.debug("error closing confirm channel: {}", ex.toString());
                }
            }
        }
        sweeper.shutdownNow();
        completer.shutdown();
        try {
            completer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #close(Duration)} with a 5 second drain. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
