package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.recovery.AutorecoveringChannel;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueSpec;
import io.github.resilience4j.core.IntervalFunction;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one work queue: owns its channel (manual acks, QoS = prefetch) and starts each delivery on
 * amqp-client's dispatch thread as far as it goes without waiting ({@link DeliveryExecutor#start}: read, decide, its
 * first lock call sent asynchronously); the queue's pool of delivery threads does the rest, so handlers never run on
 * amqp-client's threads.
 *
 * <p>The dispatch thread: amqp-client calls a consumer from its consumer pool, one thread hop after the connection's
 * I/O thread read the frames. The worker opens its consuming connection with
 * {@link dev.hopper.publisher.BrokerConfig.Builder#dispatchOnIoThread}, so there the dispatch thread is the I/O
 * thread itself (or, for a callback queued while another thread runs the channel's callbacks, that thread: a
 * channel's callbacks run one at a time, in order). Nothing here waits on it, which that requires: a wait there
 * would stop every frame of the connection. Measured: about 15 % less worker CPU per noop task than with the
 * pool (docs/benchmarks.md, eleventh session); a connection given to {@code Worker.Builder#connections} keeps
 * whichever dispatch it was opened with.
 *
 * <p>Threads: every state change and every broker RPC (channel open, {@code basic.qos}, {@code basic.consume},
 * {@code basic.cancel}, close) runs on the worker's single control thread ({@code control}); nothing here holds a
 * monitor across an RPC, and the callbacks amqp-client makes on its I/O thread (channel shutdown) and dispatch
 * threads (deliveries, cancel) only enqueue work and return. {@link #pause}, {@link #resume} and
 * {@link #changePrefetch} return at once; {@link #start}, {@link #stopConsuming} and {@link #closeChannel} wait for
 * the control thread at most {@link #CONTROL_WAIT}. State reads ({@link #isConsuming}, {@link #isPaused}) never
 * block. Each RPC is bounded by the connection's channel RPC timeout.
 *
 * <p>Hand-off bound: deliveries handed to the handler pool and not yet finished ("in hand") never exceed the
 * queue's prefetch, also across cancel and resubscribe (each {@code basic.consume} gets its own prefetch from the
 * broker): a new subscription waits for the previous one's {@code cancel-ok} (so all its deliveries are counted)
 * and asks for {@code prefetch - in hand}, waiting while nothing is left. A delivery whose channel closed before it
 * started is dropped unrun: the broker requeued it with the channel. "Its channel" is the channel generation that
 * delivered it: after automatic recovery the channel object is open again, but with a new delegate whose delivery
 * tags are new too (issue 17 finding 10: a worker frozen past its heartbeat ran prefetched deliveries after it
 * resumed, which another worker had already completed).
 *
 * <p>Keeps consuming through broker-side trouble: when the broker closes the channel on its own (a channel error,
 * or {@code consumer_timeout} before RabbitMQ 4.3) or cancels the consumer ({@code consumer_timeout} on 4.3+, a
 * deleted queue), amqp-client's automatic recovery does nothing, so this class opens a new channel and
 * subscribes again, retrying with a growing pause. Connection failures are left to automatic recovery, which
 * recovers the channel and the consumer.
 */
final class QueueConsumer implements QueueControl {
    private static final Logger log = LoggerFactory.getLogger(QueueConsumer.class);
    /** Longest a caller waits for the control thread (several RPCs, each bounded by the RPC timeout). */
    static final Duration CONTROL_WAIT = Duration.ofSeconds(60);
    private static final long RECHECK_MS = 20;
    /**
     * Resubscribing after the broker closed the channel or cancelled the consumer: 200 ms doubling to 10 s, with
     * jitter so that the workers of one queue don't come back in lockstep after a broker restart.
     */
    private static final IntervalFunction RESUBSCRIBE_BACKOFF =
            IntervalFunction.ofExponentialRandomBackoff(Duration.ofMillis(200), 2.0, 0.25, Duration.ofSeconds(10));

    /**
     * Where deliveries go: {@code lanes} (the worker's, shared by its queues) orders deliveries of one key, then
     * {@code handlers} runs them through {@code executor}; {@code ackFlushes} flushes coalesced acks; {@code late}
     * keeps what {@code handlers} refuse while the worker closes, for the closing thread.
     * {@code keyedStartEarly}: keyed deliveries start on the dispatch thread and send their lock call from there
     * (a store on the network, whose lock answer would otherwise be waited for on a parked delivery thread); all
     * others go straight to a delivery thread, which measured cheaper where no store call waits (unkeyed, or the
     * in-memory store: a thread that starts a delivery runs it through, and idle delivery threads find queued work
     * without being woken as often).
     */
    record HandOff(DeliveryExecutor executor, Executor handlers, ScheduledExecutorService ackFlushes, KeyLanes lanes,
            boolean keyedStartEarly, LateHandOns late) {
        HandOff(DeliveryExecutor executor, Executor handlers, ScheduledExecutorService ackFlushes) {
            this(executor, handlers, ackFlushes, new KeyLanes(), false, new LateHandOns());
        }
    }

    /** The key a delivery is laned by: its {@code x-hopper-key} as sent (a bad one is dead-lettered later). */
    static @Nullable String laneKey(AMQP.@Nullable BasicProperties props) {
        java.util.Map<String, Object> h = props == null ? null : props.getHeaders();
        Object key = h == null ? null : h.get(Headers.KEY);
        return key == null ? null : key.toString();
    }

    private final BrokerConnection connection;
    private final QueueSpec spec;
    private final HandOff handOff;
    private final ScheduledExecutorService control;
    private final WorkerListener listener;
    private final AtomicInteger inHand = new AtomicInteger();

    // Written on the control thread only; volatile for the readers.
    private volatile @Nullable Channel channel;
    /** The settlements of {@code channel}'s deliveries; a new one with every new channel. */
    private volatile @Nullable AckCoalescer acks;
    private volatile @Nullable Deliveries consumer;
    private volatile boolean stopped;
    private volatile boolean paused;
    private volatile boolean waitingForRoom;
    private volatile boolean heldByHand;
    private final EnumSet<Hold> holds = EnumSet.noneOf(Hold.class);
    private @Nullable Deliveries cancelling;
    private long cancellingSinceNanos;
    private int prefetch;
    private int resubscribeAttempts;
    private boolean subscribeScheduled;

    QueueConsumer(BrokerConnection connection, QueueSpec spec, HandOff handOff, ScheduledExecutorService control,
            WorkerListener listener) {
        this.connection = connection;
        this.spec = spec;
        this.handOff = handOff;
        this.control = control;
        this.listener = listener;
        this.prefetch = spec.prefetch();
    }

    String queue() {
        return spec.name();
    }

    /** Opens the channel and subscribes. @throws HopperException when that fails (e.g. queue not declared) */
    void start() {
        await(onControl(() -> {
            try {
                subscribeNow();
            } catch (HopperException e) {
                stopped = true;
                throw e;
            }
        }), "start consuming");
    }

    boolean isConsuming() {
        Channel ch = channel;
        return consumer != null && ch != null && ch.isOpen() && !paused && !stopped;
    }

    /**
     * True while the queue is held by {@link #pauseHandingBack}: deliveries still in hand go back unrun. Never
     * blocks.
     */
    boolean isHeldByHand() {
        return heldByHand;
    }

    /**
     * A manual pause ({@link Hold#MANUAL}) after which the deliveries already in hand and not yet started go back
     * unrun instead of running ({@link Worker#pauseHandingBack}: the handler cannot run at all). Cleared by
     * {@code resume(MANUAL)}.
     */
    CompletableFuture<Void> pauseHandingBack(String why) {
        heldByHand = !stopped;
        return pause(Hold.MANUAL, why);
    }

    /** True while any hold (breaker, store outage, manual pause) stops consumption. */
    boolean isPaused() {
        return paused;
    }

    /**
     * True while a new subscription waits for deliveries of the previous one to finish (the hand-off holds
     * prefetch already): healthy, consuming again as soon as one finishes.
     */
    boolean isWaitingForRoom() {
        return waitingForRoom && !stopped;
    }

    /** Deliveries handed to handler threads and not yet finished. */
    int inHand() {
        return inHand.get();
    }

    @Override
    public CompletableFuture<Void> pause(Hold hold, String why) {
        return onControl(() -> {
            if (stopped || !holds.add(hold) || holds.size() > 1) {
                return; // already held for this reason, or already paused for another
            }
            paused = true;
            cancelConsumer();
            log.warn("consuming paused queue={} reason={}", spec.name(), why);
            notifyListener(true, why);
        });
    }

    @Override
    public CompletableFuture<Void> resume(Hold hold, String why) {
        return onControl(() -> {
            if (hold == Hold.MANUAL) {
                heldByHand = false;
            }
            if (stopped || !holds.remove(hold) || !holds.isEmpty()) {
                return; // not held for this reason, or still held for another
            }
            paused = false;
            log.info("consuming resumed queue={} reason={}", spec.name(), why);
            notifyListener(false, why);
            trySubscribe();
        });
    }

    /** Sets basic.qos for the subscription (circuit breaker trials); a live subscription is renewed to apply it. */
    @Override
    public CompletableFuture<Void> changePrefetch(int n, String why) {
        return onControl(() -> {
            if (n == prefetch) {
                return;
            }
            prefetch = n;
            if (consumer != null && holds.isEmpty() && !stopped) {
                // basic.qos applies to consumers started after it; unacked deliveries of the old one settle as usual.
                cancelConsumer();
                trySubscribe();
            }
        });
    }

    /** Stops consuming for good (shutdown): basic.cancel; the channel stays open so in-flight work can settle. */
    void stopConsuming() {
        await(onControl(() -> {
            stopped = true;
            cancelConsumer();
        }), "stop consuming");
    }

    /** Closes the channel; the broker requeues whatever is still unacked on it. */
    void closeChannel() {
        await(onControl(() -> {
            stopped = true;
            Channel ch = channel;
            channel = null;
            consumer = null;
            if (ch != null && ch.isOpen()) {
                flushAndClose(ch);
            }
        }), "close the consumer channel");
    }

    /** Control thread: sends the acks still held back (else requeued with the channel), then closes it. */
    private void flushAndClose(Channel ch) {
        AckCoalescer a = acks;
        if (a != null) {
            a.flushNow();
        }
        try {
            ch.close();
        } catch (IOException | TimeoutException | AlreadyClosedException e) {
            log.debug("error closing consumer channel queue={}: {}", spec.name(), e.toString());
        }
    }

    /** Test seam (package-private): the current consuming channel, to provoke a broker-side channel error. */
    @Nullable Channel channelForTests() {
        return channel;
    }

    // ---- control thread only below ----

    private void cancelConsumer() {
        Deliveries c = consumer;
        consumer = null;
        Channel ch = channel;
        if (c == null || ch == null || !ch.isOpen()) {
            return;
        }
        cancelling = c;
        cancellingSinceNanos = System.nanoTime();
        try {
            // The tag basic.consume returned, not getConsumerTag(): amqp-client sets that one in handleConsumeOk on
            // its dispatch thread, which may not have run yet right after a subscribe; basic.cancel with it then
            // fails at once ("Unknown consumerTag"), the subscription stays live while the queue counts as paused,
            // and the next subscribe waits a whole CONTROL_WAIT for a cancel-ok that never comes.
            ch.basicCancel(c.tag);
        } catch (IOException | AlreadyClosedException e) {
            log.debug("basic.cancel failed queue={}: {}", spec.name(), e.toString());
        }
    }

    /** Subscribes now or as soon as the hand-off has room; never blocks the control thread to wait. */
    private void trySubscribe() {
        try {
            subscribeNow();
        } catch (RuntimeException e) {
            waitingForRoom = false;
            // E.g. the connection is recovering: keep trying rather than stay paused until a restart.
            log.warn("subscribing again failed queue={}: {}", spec.name(), e.getMessage());
            scheduleSubscribe(nextBackoff());
        }
    }

    private void subscribeNow() {
        if (stopped || !holds.isEmpty() || consumer != null) {
            return;
        }
        Channel ch = channel;
        if (ch != null && ch.isOpen() && !previousCancelled()) {
            waitingForRoom = true;
            scheduleSubscribe(RECHECK_MS); // its deliveries are not all counted yet
            return;
        }
        int room = prefetch - inHand.get();
        if (room <= 0) {
            waitingForRoom = true;
            scheduleSubscribe(RECHECK_MS); // the hand-off is full; subscribe once a delivery finishes
            return;
        }
        waitingForRoom = false;
        if (!connection.isOpen()) {
            throw new HopperException("connection down (automatic recovery is at work)");
        }
        if (ch == null || !ch.isOpen()) {
            ch = connection.openChannel();
            acks = AckCoalescer.on(ch, handOff.ackFlushes());
            channel = ch;
            Channel owned = ch;
            // Called on the connection's I/O thread: enqueue and return, never block there.
            ch.addShutdownListener(cause -> enqueue(() -> onChannelShutdown(owned, cause)));
        }
        try {
            ch.basicQos(room);
            Deliveries d = new Deliveries(ch, requireNonNull(acks));
            d.tag = ch.basicConsume(spec.name(), false, d);
            consumer = d;
            cancelling = null;
            resubscribeAttempts = 0;
            log.info("consuming queue={} prefetch={} concurrency={}", spec.name(), room, spec.concurrency());
        } catch (IOException | AlreadyClosedException e) {
            String why = rootMessage(e);
            throw new HopperException("cannot consume from queue '" + spec.name() + "' on "
                    + connection.redactedUri() + ": " + why + (why.contains("NOT_FOUND")
                            ? " (declare the topology first: hopper topology declare)" : ""), e);
        }
    }

    /** True when no cancel is pending, or its cancel-ok arrived, or it has been pending too long to wait for. */
    private boolean previousCancelled() {
        Deliveries c = cancelling;
        return c == null || c.cancelOk || System.nanoTime() - cancellingSinceNanos > CONTROL_WAIT.toNanos();
    }

    private void onChannelShutdown(Channel ch, ShutdownSignalException cause) {
        if (ch != channel || stopped || cause.isInitiatedByApplication()) {
            return;
        }
        if (cause.isHardError()) {
            // Connection-level: automatic recovery reopens this channel and its consumer.
            return;
        }
        // The reply text says why (e.g. "delivery acknowledgement on channel 1 timed out" for consumer_timeout).
        log.warn("broker closed the consumer channel queue={} reason={}; subscribing again", spec.name(),
                cause.getReason() instanceof AMQP.Channel.Close close
                        ? close.getReplyCode() + " " + close.getReplyText()
                        : cause.getReason() == null ? cause.getMessage() : cause.getReason().protocolMethodName());
        channel = null;
        consumer = null;
        cancelling = null;
        scheduleSubscribe(nextBackoff());
    }

    /** A callback failed on {@code ch}: close it (acks held back go first) and subscribe again on a new one. */
    private void recycleChannel(Channel ch) {
        if (ch != channel || stopped) {
            return;
        }
        channel = null;
        consumer = null;
        cancelling = null;
        flushAndClose(ch);
        scheduleSubscribe(nextBackoff());
    }

    private void onBrokerCancel(Deliveries d) {
        if (d != consumer) {
            return;
        }
        consumer = null;
        log.warn("broker cancelled the consumer queue={}; subscribing again", spec.name());
        scheduleSubscribe(nextBackoff());
    }

    private long nextBackoff() {
        resubscribeAttempts = Math.min(resubscribeAttempts + 1, 32); // past 10 s the count no longer matters
        return RESUBSCRIBE_BACKOFF.apply(resubscribeAttempts);
    }

    private void scheduleSubscribe(long delayMs) {
        if (subscribeScheduled || stopped) {
            return;
        }
        subscribeScheduled = true;
        try {
            control.schedule(() -> {
                subscribeScheduled = false;
                trySubscribe();
            }, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            subscribeScheduled = false;
            log.debug("worker closing; not resubscribing queue={}", spec.name());
        }
    }

    private void notifyListener(boolean isPaused, String why) {
        try {
            listener.onConsumingChanged(spec.name(), isPaused, why);
        } catch (RuntimeException e) {
            log.warn("worker listener failed: {}", e.toString());
        }
    }

    // ---- plumbing ----

    private void enqueue(Runnable r) {
        try {
            control.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    log.warn("consumer control action failed queue={}: {}", spec.name(), e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("worker closed; dropping consumer control action queue={}", spec.name());
        }
    }

    private CompletableFuture<Void> onControl(Runnable r) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            control.execute(() -> {
                try {
                    r.run();
                    done.complete(null);
                } catch (RuntimeException e) {
                    done.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(new HopperException("the worker is closed", e));
        }
        return done;
    }

    private void await(CompletableFuture<Void> f, String what) {
        try {
            f.get(CONTROL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new HopperException("could not " + what + " on queue " + spec.name(), e.getCause());
        } catch (TimeoutException e) {
            throw new HopperException("could not " + what + " on queue " + spec.name() + " within "
                    + CONTROL_WAIT.toSeconds() + "s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HopperException("interrupted while waiting to " + what + " on queue " + spec.name(), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }

    /** One subscription's callbacks, on the dispatch thread (see above): count, hand off, return; never wait. */
    private final class Deliveries extends DefaultConsumer {
        private volatile boolean cancelOk;
        /** The consumer tag the broker gave this subscription (set by the control thread once subscribed). */
        private volatile String tag = "";
        private final AckCoalescer acks;

        Deliveries(Channel ch, AckCoalescer acks) {
            super(ch);
            this.acks = acks;
        }

        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
            try {
                take(envelope, props, body);
            } catch (RuntimeException | Error e) {
                // A bug in Hopper. Thrown on, amqp-client would close the channel right here and wait up to the RPC
                // timeout for a close-ok that only this thread can read (the dispatch thread is the I/O thread), and
                // the queue would not be consumed again (an application-initiated close): recycle the channel on the
                // control thread instead. The broker requeues its unacked deliveries.
                log.error("unexpected error taking a delivery queue={}; reopening the channel (the broker requeues "
                        + "its unacked deliveries)", spec.name(), e);
                Channel ch = getChannel();
                enqueue(() -> recycleChannel(ch));
            }
        }

        private void take(Envelope envelope, AMQP.BasicProperties props, byte[] body) {
            Channel ch = getChannel();
            SettlementSink sink = acks.delivered(envelope.getDeliveryTag());
            // The channel this delivery's tag belongs to. Automatic recovery swaps a recovering channel's delegate and
            // reports it open again, so the recovering wrapper alone cannot tell that the delivery is gone.
            Channel generation = ch instanceof AutorecoveringChannel r ? r.getDelegate() : ch;
            inHand.incrementAndGet();
            String key = laneKey(props);
            Runnable finished = () -> {
                inHand.decrementAndGet();
                if (key != null) {
                    handOff.lanes().leave(key);
                }
            };
            // Keyed with a store on the network: starts here (or, for a key with a delivery ahead of it, on the
            // thread that finished that one) and goes on to a delivery thread at its first step that may wait
            // (DeliveryExecutor#start). Others start on a delivery thread. The channel check
            // there drops a delivery whose channel closed before it ran: the broker requeued it when the channel (or
            // its connection) closed, e.g. while this process was frozen past the heartbeat, and running it now would
            // run it twice.
            DeliveryExecutor.DeliveryThreads threads = new DeliveryExecutor.DeliveryThreads(handOff.handlers(),
                    generation::isOpen, handOff.late());
            Runnable start = key != null && handOff.keyedStartEarly()
                    ? () -> handOff.executor().start(sink, envelope, props, body, threads, finished)
                    : () -> handOff.executor().startOnDeliveryThread(sink, envelope, props, body, threads, finished);
            if (key == null) {
                start.run();
            } else {
                handOff.lanes().enter(key, start);
            }
        }

        @Override
        public void handleCancelOk(String tag) {
            cancelOk = true;
        }

        @Override
        public void handleCancel(String tag) {
            // Server-initiated cancel: queue deleted, or consumer_timeout on RabbitMQ 4.3+.
            cancelOk = true;
            enqueue(() -> onBrokerCancel(this));
        }
    }
}
