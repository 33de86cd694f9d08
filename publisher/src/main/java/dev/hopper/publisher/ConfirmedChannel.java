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
import java.util.concurrent.locks.ReentrantLock;
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
 * {@code windowWait} in total for the broker to lift a {@code connection.blocked} alarm, for room in the window
 * and for its turn on the channel, then fails with {@code BLOCKED} ("broker blocked publishing (low on memory)")
 * or {@code WINDOW_FULL}, so unconfirmed messages never pile up in memory. Publishes take their turn with a
 * bounded {@code tryLock}, never an unbounded monitor: if the broker blocks the connection while one publish is
 * writing (a blocked broker stops reading its socket), the others give up after their {@code windowWait}.
 *
 * <p>Confirm timeout and alarms: time the connection spends blocked by the broker does not count against a
 * message's {@code confirmTimeout}. A message sent just before a memory alarm keeps waiting for its confirm once
 * the alarm clears (the caller's own overall timeout, e.g. {@link TaskPublisher#publish(Task, Duration)}, still
 * bounds the wait); a message whose confirm time runs out while the broker still blocks fails with
 * {@code BLOCKED} (may have arrived).
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
 * <p>Close: {@link #close(Duration)} never waits longer than its drain plus {@link #CLOSE_WAIT} for the channel's
 * close-ok (a blocked broker never sends one).
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
    private final int maxInFlight;
    private final Duration windowWait;
    private final Duration confirmTimeout;
    /** How long {@link #close(Duration)} waits for the broker's close-ok after draining. */
    public static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    /** Serializes publishes (sequence number + basicPublish) and channel replacement; always taken with a bound. */
    private final ReentrantLock publishLock = new ReentrantLock();
    /** Every channel that may still have unconfirmed messages: the current one and retired ones not yet drained. */
    private final Set<Generation> generations = ConcurrentHashMap.newKeySet();
    private final ExecutorService completer;
    private final ScheduledExecutorService sweeper;
    private volatile @Nullable Generation current; // written under publishLock
    private volatile boolean closed;

    /** One unconfirmed message. Its future is settled and its window permit returned exactly once. */
    private final class Pending {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        final String exchange;
        final String routingKey;
        final @Nullable String messageId;
        final long deadlineNanos;
        /** The connection's total blocked time when this message was sent: blocked time after it is not counted. */
        final long blockedAtSendNanos;
        final AtomicBoolean settled = new AtomicBoolean();
        volatile @Nullable String returnedText;

        Pending(String exchange, String routingKey, @Nullable String messageId, long deadlineNanos,
                long blockedAtSendNanos) {
            this.exchange = exchange;
            this.routingKey = routingKey;
            this.messageId = messageId;
            this.deadlineNanos = deadlineNanos;
            this.blockedAtSendNanos = blockedAtSendNanos;
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

        /**
         * Fails messages whose confirm time ran out, not counting time the broker blocked the connection since
         * they were sent. Visits every pending message (at most {@code maxInFlight}): with blocked time excluded,
         * sequence order is no longer deadline order.
         */
        void failExpired(long now, long blockedTotal, @Nullable String blockedNow) {
            for (Map.Entry<Long, Pending> e : pending.entrySet()) {
                Pending candidate = e.getValue();
                long blockedSince = blockedTotal - candidate.blockedAtSendNanos;
                if (now - candidate.deadlineNanos - blockedSince < 0) {
                    continue;
                }
                Pending p = pending.remove(e.getKey());
                if (p == null) {
                    continue;
                }
                if (blockedNow != null) {
                    p.settle(new PublishException(PublishException.Reason.BLOCKED, true, blockedMessage(blockedNow)
                            + ": no confirm within " + confirmTimeout.toMillis() + "ms for "
                            + describe(p.exchange, p.routingKey) + "; the message may or may not have arrived",
                            new TimeoutException()));
                } else {
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
        this.maxInFlight = maxInFlight;
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
        publishLock.lock(); // uncontended: nobody else has this instance yet
        try {
            current = openGeneration();
        } finally {
            publishLock.unlock();
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
                return CompletableFuture.failedFuture(blockedTooLong());
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
                System.nanoTime() + confirmTimeout.toNanos(), connection.blockedNanosTotal());
        try {
            if (!publishLock.tryLock(Math.max(0, waitDeadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                // Another publish holds the channel: it is writing to a broker that stopped reading (an alarm).
                p.failNow(connection.blockedReason() != null ? blockedTooLong()
                        : new PublishException(PublishException.Reason.WINDOW_FULL, "another publish on this "
                                + "channel did not finish within " + windowWait.toMillis() + "ms; the broker is "
                                + "slow or overloaded"));
                return p.future;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.failNow(new PublishException(PublishException.Reason.CLOSED, "interrupted while waiting to publish",
                    e));
            return p.future;
        }
        try {
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
                if (closed && gen.pending.remove(seq) != null) {
                    // close() gave up waiting for this publish and has failed what it could see: settle ours.
                    p.failNow(new PublishException(PublishException.Reason.CLOSED, true, "publisher closed while "
                            + "publishing to " + describe(exchange, routingKey)
                            + "; the message may or may not have arrived", null));
                } else if (gen.dead && gen.pending.remove(seq) != null) {
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
        } finally {
            publishLock.unlock();
        }
        return p.future;
    }

    private PublishException blockedTooLong() {
        return new PublishException(PublishException.Reason.BLOCKED, blockedMessage(connection.blockedReason())
                + " for longer than " + windowWait.toMillis() + "ms; nothing was sent; free memory or disk on the "
                + "broker " + connection.redactedUri());
    }

    /** The one wording of a blocked connection, e.g. "broker blocked publishing (low on memory)". */
    static String blockedMessage(@Nullable String reason) {
        return "broker blocked publishing (" + (reason == null ? "resource alarm" : reason) + ")";
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
        long blockedTotal = connection.blockedNanosTotal();
        String blockedNow = connection.blockedReason();
        for (Generation g : generations) {
            g.failExpired(now, blockedTotal, blockedNow);
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
     * channel, waiting at most {@link #CLOSE_WAIT} for the broker's close-ok. Publishes after this fail with
     * {@code CLOSED}. Idempotent. Returns within about {@code drain + CLOSE_WAIT} plus 5 s for the completer
     * thread, even when the broker blocks the connection or a publish is stuck writing to it.
     */
    public void close(Duration drain) {
        long deadline = System.nanoTime() + drain.toNanos();
        boolean locked = false;
        try {
            // With the lock no publish is between taking its channel and registering its message. Without it (a
            // publish stuck writing to a blocked broker) that publish settles its own message after basicPublish.
            locked = publishLock.tryLock(drain.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            if (locked) {
                publishLock.unlock();
            }
        }
        // Closed: no publish takes a permit any more, so all permits free means every message is settled.
        try {
            long left = Math.max(0, deadline - System.nanoTime());
            if (window.tryAcquire(maxInFlight, left, TimeUnit.NANOSECONDS)) {
                window.release(maxInFlight);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        PublishException e = new PublishException(PublishException.Reason.CLOSED, true, "publisher closed before "
                + "the broker confirmed; the message may or may not have arrived", null);
        for (Generation g : generations) {
            g.failAll(e);
        }
        Generation gen = current; // read without the lock: closed is set, so it no longer changes
        if (gen != null && gen.channel.isOpen()) {
            BoundedClose.run("confirm channel on " + connection.redactedUri(), CLOSE_WAIT, gen.channel::close);
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
