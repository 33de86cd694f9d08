package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.FollowUpStore;
import dev.hopper.coordination.GroupPlan;
import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.ConfirmedChannel;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskJson;
import dev.hopper.topology.Topology;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs task handlers for one or more work queues with late acknowledgement (design.md, "What a worker does with
 * one delivery").
 *
 * <p>Guarantees: a delivery is acked only after its outcome is settled: the handler succeeded, or a retry or
 * dead-letter copy was confirmed by the broker. If the worker dies at any point (kill -9, OOM, lost network),
 * the broker requeues every unacked delivery and another worker runs it: tasks run at least once, never zero
 * times. Failures go through the queue's delay tiers under its retry policy and end in {@code Q.dead} with the
 * reason and the error. Bad input (unparseable body, unknown type, mistyped headers, oversized body) is
 * dead-lettered at once and never stops the worker.
 *
 * <p>Keyed tasks ({@code x-hopper-key}): before running, one atomic store call checks the task's revision and takes
 * the key's lock, so no two workers sharing the {@link CoordinationStore} run the same key at once. A stale task is
 * acked unrun (policy skip) or run against the current revision (refresh). Deliveries for a key already in hand on
 * this worker wait in the key's lane (arrival order, no handler thread taken) until the one before is done; a key
 * held by another worker is waited for in hand while its lock keeps changing hands ({@code lock.wait-in-hand}); a
 * key that stays busy sends the task back through a delay tier without counting an attempt, up to the lock-wait
 * budget. The lease is renewed every third of it
 * while the handler runs, and a lost lease interrupts the handler. A failure while the key's revision moved is
 * superseded (skip) or requeued at once (refresh). Success records a done-marker and releases the lock in one step
 * before the ack, so a redelivery after a crash between the two is acked unrun. While the store does not answer,
 * keyed tasks go back unrun and the worker pauses consuming until it answers again.
 *
 * <p>Threads: each queue has its own channel and a pool of {@code concurrency} delivery threads fed by a hand-off
 * that never holds more than the queue's prefetch; handlers never run on amqp-client's threads. At most
 * {@code concurrency} handlers of a queue run at once (its run slots, taken right before the handler and given back
 * when it returns). Deliveries arrive on the consuming connection's I/O thread, which only counts them and hands
 * them on ({@link BrokerConfig.Builder#dispatchOnIoThread}); keyed deliveries send their lock call from there, and
 * lock calls and completions with a store on the network go out without a thread waiting for them, batched with
 * whatever else is out. Besides, each job has threads of its own so one slow job cannot starve another: one
 * control thread for subscribe, cancel and resubscribe RPCs (each bounded by the connection's RPC timeout); one
 * deadline sweeper for every handler timeout and lease renewal schedule; lease renewal calls (at most one in flight
 * per running keyed handler); one store probe; one ack flusher; one queue-depth reader (with metrics). Thread names
 * carry the worker id. Retry and dead-letter copies go over a separate publishing connection, so a broker that
 * blocks publishers cannot stall acks. All public methods are thread-safe; {@link #isHealthy()},
 * {@link #isConsuming} and {@link #inFlight()} never block.
 *
 * <p>Each delivery is decided by one pure function ({@code DeliveryDecider}) and carried out by a thin executor;
 * see the package documentation.
 *
 * <p>Topology: {@link #start()} first declares the exchanges and queues of the queues it consumes (idempotent; a
 * queue that exists with other arguments fails the start, naming the difference, and nothing is deleted). Turn
 * it off with {@link Builder#declareTopology(boolean) declareTopology(false)} when a deployer declares them
 * ({@code hopper topology declare}) and the worker's broker user may not.
 *
 * <p>Shutdown: {@link #close()} stops consuming, lets the lock calls still out come back, lets running handlers
 * finish and settles their outcomes, hands back deliveries that had not started (as copies, so no delivery is counted
 * against the queue's limit, releasing a lock they took), also those that could only start once a handler of their
 * key finished during the drain, lets the completions still out come back so their acks go out, and closes; all of it
 * within the drain timeout. A handler still running after the drain leaves its delivery
 * unacked, and the broker requeues it. {@link #registerShutdownHook()}
 * does that on SIGTERM and Ctrl-C; {@link #awaitTermination()} waits for it.
 *
 * <p>Ownership: {@link #close()} closes what the worker created: the connections it opened from
 * {@link Builder#broker}, the in-memory store it made when none was given, its threads and channels. It does not
 * close what it was given: connections passed to {@link Builder#connections}, a store passed to
 * {@link Builder#coordinationStore}, or a {@link Builder#meterRegistry}; close those after the worker.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    /** How long a retry or dead-letter copy may take to be confirmed before the original is rejected. */
    private static final Duration COPY_CONFIRM_WAIT = Duration.ofSeconds(30);
    /** How long a retry or dead-letter copy waits for the broker to unblock publishing before it gives up unsent. */
    private static final Duration COPY_BLOCKED_WAIT = Duration.ofMinutes(5);
    /** Beyond the copy channel's own bounds (the block, then the confirm timeout): its verdict always comes first. */
    private static final Duration SETTLER_COPY_WAIT = COPY_BLOCKED_WAIT.plusMinutes(2);

    private final @Nullable BrokerConfig brokerConfig;
    private @Nullable BrokerConnection consumeConnection;
    private @Nullable BrokerConnection publishConnection;
    private final boolean ownsConnections;
    private final HopperConfig config;
    private final List<String> queueNames;
    private final Map<String, RegisteredHandler<?>> handlers;
    private final @Nullable RegisteredHandler<?> fallback;
    private final CoordinationStore store;
    private final boolean ownsStore;
    private final boolean markUnkeyedDone;
    private final Clock clock;
    private final String workerId;
    private final WorkerListener listener;
    private final Duration drainTimeout;
    private final int publishWindow;
    private final java.util.function.Consumer<String> afterCompleteHook;
    private final @Nullable MeterRegistry meterRegistry;
    private final int maxFollowUps;
    private final Duration groupRetention;
    private final ObjectMapper followUpMapper;
    /** One per worker: a key's lock is the same for all its queues. */
    private final KeyLanes lanes = new KeyLanes();
    /** What the delivery threads refuse while this worker closes, carried on by the closing thread. */
    private final LateHandOns lateHandOns = new LateHandOns();

    private volatile List<QueueConsumer> consumers = List.of();
    /** What {@link #start} created, closed in reverse order by {@link #close} (or when start fails). */
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final List<ThreadPoolExecutor> pools = new ArrayList<>();
    /** Set by start(): the store calls in flight that close() lets finish. */
    private volatile @Nullable BatchedStore batchedStore;
    private @Nullable StoreWatch storeWatch;
    private volatile boolean closing;
    private boolean started;
    private final boolean declareTopology;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicBoolean shutdownHookRegistered = new AtomicBoolean();

    private Worker(Builder b) {
        this.brokerConfig = b.brokerConfig;
        this.consumeConnection = b.consumeConnection;
        this.publishConnection = b.publishConnection != null ? b.publishConnection : b.consumeConnection;
        this.ownsConnections = b.consumeConnection == null;
        this.config = requireNonNull(b.config, "config");
        this.queueNames = b.queues.isEmpty() ? List.copyOf(config.queues().keySet()) : List.copyOf(b.queues);
        for (String q : queueNames) {
            config.requireQueue(q);
        }
        if (b.handlers.isEmpty() && b.fallback == null) {
            throw new IllegalArgumentException("a worker needs at least one handler");
        }
        this.handlers = Map.copyOf(b.handlers);
        this.fallback = b.fallback;
        this.ownsStore = b.store == null;
        this.store = b.store != null ? b.store : new InMemoryCoordinationStore();
        this.markUnkeyedDone = b.markUnkeyedDone;
        this.clock = b.clock;
        this.workerId = b.workerId;
        this.listener = b.listener;
        this.drainTimeout = b.drainTimeout;
        this.publishWindow = b.publishWindow;
        this.afterCompleteHook = b.afterCompleteHook;
        this.meterRegistry = b.meterRegistry;
        this.declareTopology = b.declareTopology;
        this.maxFollowUps = b.maxFollowUps;
        this.groupRetention = b.groupRetention;
        this.followUpMapper = b.mapper;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Connects (when built from a {@link BrokerConfig}) and starts consuming every queue.
     *
     * @throws dev.hopper.publisher.BrokerUnavailableException when the broker cannot be reached
     * @throws HopperException when a queue cannot be consumed (e.g. not declared)
     */
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException("worker already started");
        }
        started = true;
        try {
            startAll();
        } catch (RuntimeException | Error e) {
            // Nothing half-started may outlive a failed start: pools, timers, channels and our connections.
            closing = true;
            closeResources();
            terminated.countDown();
            throw e;
        }
        log.info("worker started id={} queues={} uri={}", workerId, queueNames,
                requireNonNull(consumeConnection).redactedUri());
    }

    private void startAll() {
        if (ownsConnections) {
            BrokerConfig bc = requireNonNull(brokerConfig);
            consumeConnection = own(BrokerConnection.open(BrokerConfig.builder(bc.uri())
                    .connectionName(bc.connectionName() + "-consume").heartbeat(bc.heartbeat())
                    .connectTimeout(bc.connectTimeout()).recoveryInterval(bc.recoveryInterval())
                    .dispatchOnIoThread(true).build()));
            publishConnection = own(BrokerConnection.open(BrokerConfig.builder(bc.uri())
                    .connectionName(bc.connectionName() + "-publish").heartbeat(bc.heartbeat())
                    .connectTimeout(bc.connectTimeout()).recoveryInterval(bc.recoveryInterval()).build()));
        }
        if (ownsStore) {
            own(store::close);
        }
        List<QueueSpec> specs = queueNames.stream().map(config::requireQueue).toList();
        if (declareTopology) {
            new Topology(new HopperConfig(specs.stream().collect(java.util.stream.Collectors.toMap(QueueSpec::name,
                    q -> q, (a, b) -> a, LinkedHashMap::new)), config.coordination()))
                    .declare(requireNonNull(consumeConnection).amqp());
        }
        int handlerThreads = specs.stream().mapToInt(QueueSpec::concurrency).sum();
        Duration shortestLease = specs.stream().map(q -> q.lock().lease()).min(Duration::compareTo).orElseThrow();
        // Threads by job, so one slow job cannot starve another: broker control RPCs; the deadline sweep; lease
        // renewals (at most one in flight per running handler); store probes; queue depth reads.
        ScheduledExecutorService control = ownPool(Executors.newSingleThreadScheduledExecutor(
                daemonThreads("hopper-control-" + workerId)));
        ScheduledExecutorService sweeps = ownPool(Executors.newSingleThreadScheduledExecutor(
                daemonThreads("hopper-deadlines-" + workerId)));
        // At most one renewal in flight per running keyed handler, but a call stuck in a silent store outlives the
        // run it was for (until the store's own timeout): room for several generations of stuck calls, so they
        // cannot crowd out the renewals of keys whose store calls do answer.
        ExecutorService renewals = ownPool(new ThreadPoolExecutor(0, 4 * handlerThreads + 4, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), daemonThreads("hopper-lease-" + workerId)));
        // Coalesced acks wait at most a millisecond (AckCoalescer.FLUSH_NANOS) for this thread.
        ScheduledExecutorService ackFlushes = ownPool(Executors.newSingleThreadScheduledExecutor(
                daemonThreads("hopper-acks-" + workerId)));
        ScheduledExecutorService probes = ownPool(Executors.newSingleThreadScheduledExecutor(
                daemonThreads("hopper-store-probe-" + workerId)));
        // Warm the store while the consumers subscribe: a store that connects lazily (Redis: the client's event
        // loops, the first connection) would otherwise make the first keyed task wait for all of it. A failure here
        // is only logged: the first real call reports it and the StoreWatch pauses the queues.
        probes.execute(() -> {
            try {
                store.isCompleted("hopper-store-probe");
            } catch (RuntimeException e) {
                log.debug("coordination store did not answer the warm-up call: {}", e.toString());
            }
        });
        DeadlineSweeper sweeper = new DeadlineSweeper(store, renewals, System::nanoTime,
                DeadlineSweeper.restartCheckFor(shortestLease));
        long tick = DeadlineSweeper.tickFor(shortestLease).toMillis();
        sweeps.scheduleWithFixedDelay(sweeper::sweep, tick, tick, TimeUnit.MILLISECONDS);

        // A copy waits out a broker block (memory alarm) up to COPY_BLOCKED_WAIT before it gives up unsent; its
        // confirm timeout leaves out blocked time. The settler waits for the channel's own verdict, so a copy that
        // reached the broker is never reported unconfirmed while the original goes back too (finding 2).
        ConfirmedChannel copies = new ConfirmedChannel(requireNonNull(publishConnection), publishWindow,
                COPY_BLOCKED_WAIT, Duration.ofSeconds(30));
        own(() -> copies.close(Duration.ofSeconds(5)));
        RetryRouter retries = new RetryRouter(copies::publish);
        DeadLetterPublisher dead = new DeadLetterPublisher(copies::publish, clock, workerId);
        WorkerMetrics metrics = meterRegistry == null ? null
                : new WorkerMetrics(specs, handlers.keySet(), this::inFlight, lanes::waiting);
        WorkerListener events = metrics == null ? listener : new ListenerFanOut(List.of(listener, metrics));
        if (metrics != null) {
            metrics.bindTo(meterRegistry);
        }
        List<QueueConsumer> built = new ArrayList<>();
        List<DeliveryGate> gates = new ArrayList<>();
        TypeTags typeTags = new TypeTags(handlers.keySet(), fallback != null);
        StoreHealth health = new StoreHealth() {
            @Override
            public void unavailable(dev.hopper.coordination.StoreUnavailableException e) {
                requireNonNull(storeWatch).unavailable(e);
            }

            @Override
            public boolean isDown() {
                return requireNonNull(storeWatch).isDown();
            }
        };
        // A suspect of crashing workers runs alone on the whole worker (a crash takes every queue's deliveries).
        Duration longestRun = specs.stream().map(QueueSpec::handlerTimeout).max(Duration::compareTo).orElseThrow();
        StartSlots slots = new StartSlots(longestRun.plusMinutes(1));
        boolean durableStarts = !(store instanceof dev.hopper.coordination.InMemoryCoordinationStore);
        BatchedStore batchedStore = new BatchedStore(store);
        this.batchedStore = batchedStore;
        for (QueueSpec spec : specs) {
            String name = spec.name();
            java.util.concurrent.atomic.AtomicReference<QueueConsumer> consumerOf =
                    new java.util.concurrent.atomic.AtomicReference<>();
            // The hand-off never holds more than prefetch (QueueConsumer keeps in-hand <= prefetch): a full queue
            // here is a bug, answered by nack+requeue rather than by growing without bound. One thread per run slot
            // (deliveryThreads explains why no more).
            int threads = deliveryThreads(spec);
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 0,
                    TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(spec.prefetch()), daemonThreads("hopper-" + name));
            pools.add(pool);
            DeliveryGate gate = DeliveryGate.forQueue(spec, events);
            gates.add(gate);
            HandlerRunner runner = new HandlerRunner(name, clock, sweeper, System::nanoTime, () -> closing);
            FollowUpEffects followUps = new FollowUpEffects(name, new FollowUpEffects.Setup(store, health,
                    copies::publish, clock, COPY_CONFIRM_WAIT, followUpMapper, maxFollowUps, events));
            DeliveryEffects effects = new DeliveryEffects(name, new DeliveryEffects.Store(store, health,
                    System::nanoTime, batchedStore), gate, runner, afterCompleteHook, followUps, slots,
                    new RunSlots(spec.concurrency(), spec.handlerTimeout().plus(spec.lock().lease()), System::nanoTime));
            DeliveryExecutor executor = new DeliveryExecutor(name,
                    new DeliveryReader(spec.maxBodyBytes(), handlers, fallback, typeTags),
                    new DeliveryDecider(spec, handlers.keySet(), markUnkeyedDone, config.coordination().doneMarkerTtl(),
                            groupRetention, durableStarts),
                    effects, new DecisionSettler(name, retries, dead, SETTLER_COPY_WAIT),
                    new DeliveryExecutor.Hooks(workerId, () -> closing, events, () -> {
                        QueueConsumer c = consumerOf.get();
                        return c != null && c.isHeldByHand();
                    }));
            QueueConsumer consumer = new QueueConsumer(requireNonNull(consumeConnection), spec,
                    new QueueConsumer.HandOff(executor, pool, ackFlushes, lanes, durableStarts, lateHandOns), control,
                    events);
            consumerOf.set(consumer);
            built.add(consumer);
        }
        for (int i = 0; i < built.size(); i++) {
            gates.get(i).bind(built.get(i));
        }
        consumers = List.copyOf(built);
        holdWhileBlocked(requireNonNull(publishConnection));
        storeWatch = new StoreWatch(store, probes, consumers);
        own(requireNonNull(storeWatch)::close);
        for (QueueConsumer c : consumers) {
            own(c::closeChannel);
            c.start();
        }
        if (metrics != null) {
            ScheduledExecutorService depths = ownPool(Executors.newSingleThreadScheduledExecutor(
                    daemonThreads("hopper-depth-" + workerId)));
            QueueDepthPoller poller = own(new QueueDepthPoller(requireNonNull(consumeConnection), specs, metrics));
            poller.start(depths, QueueDepthPoller.DEFAULT_INTERVAL);
        }
    }

    /**
     * The threads that carry one queue's deliveries: one per run slot ({@code concurrency}), whatever the store.
     *
     * <p>Why not more (the fifth to seventh sessions had one per prefetched delivery, up to 64, with a store on the
     * network): then every delivery of a window could wait for the store, or for a run slot while renewing its lock,
     * on a thread of its own. Since the first lock call and the completion hold no thread
     * ({@link DeliveryExecutor#start}, {@link DeliveryEffects#runLater}), those threads mostly parked and woke: each
     * hand-on woke an idle one (a LinkedBlockingQueue wakes another taker while items remain), one wake-up per
     * task. With as many threads as slots, a window of locked deliveries is drained by the threads already awake.
     * Measured over 200 000 keyed Redis tasks (prefetch 64, concurrency 4), interleaved: 58 µs of worker CPU per
     * task against 78 with 64 threads (docs/benchmarks.md, eighth session). A locked delivery that waits for a
     * thread keeps its lease through {@link DeadlineSweeper#holdQueued}, as one that waited for a slot on its own
     * thread did. What waits in hand on a thread still takes it from the slots: a busy key's wait
     * ({@link BusyKeyWait}, one per key thanks to {@link KeyLanes}, at most {@code lock.wait-in-hand}), a
     * synchronous store call or a confirmed copy.
     */
    static int deliveryThreads(QueueSpec spec) {
        return spec.concurrency();
    }

    /**
     * Pauses every queue while the broker blocks the publishing connection (memory or disk alarm) and resumes when
     * it unblocks, as the breaker does: a task taken meanwhile could neither retry nor die (its copy cannot be
     * confirmed), and handing it back would count against its crash-loop budget. Tasks already in hand run; their
     * copies wait out the block (COPY_BLOCKED_WAIT). The callbacks come on the connection's I/O thread and only
     * enqueue work.
     */
    private void holdWhileBlocked(BrokerConnection publishing) {
        publishing.amqp().addBlockedListener(new com.rabbitmq.client.BlockedListener() {
            @Override
            public void handleBlocked(String reason) {
                for (QueueConsumer c : consumers) {
                    c.pause(QueueControl.Hold.BROKER_BLOCKED, "broker blocked publishing (" + reason + ")");
                }
            }

            @Override
            public void handleUnblocked() {
                for (QueueConsumer c : consumers) {
                    c.resume(QueueControl.Hold.BROKER_BLOCKED, "broker unblocked publishing");
                }
            }
        });
    }

    private <T extends AutoCloseable> T own(T resource) {
        resources.push(resource);
        return resource;
    }

    private <T extends ExecutorService> T ownPool(T pool) {
        resources.push(pool::shutdownNow);
        return pool;
    }

    /** This worker's id, written as {@code x-hopper-worker} on its dead letters. */
    public String workerId() {
        return workerId;
    }

    /** Deliveries handed to handler threads and not yet settled. */
    private volatile boolean drainTimedOut;

    public int inFlight() {
        int n = 0;
        for (QueueConsumer c : consumers) {
            n += c.inHand();
        }
        return n;
    }

    /** True while the queue has a live subscription (not paused, not stopped). */
    public boolean isConsuming(String queue) {
        return consumers.stream().anyMatch(c -> c.queue().equals(queue) && c.isConsuming());
    }

    /** True while the broker connections are open (or recovering has finished). */
    public boolean isConnected() {
        BrokerConnection c = consumeConnection;
        BrokerConnection p = publishConnection;
        return c != null && c.isOpen() && p != null && p.isOpen();
    }

    /**
     * True while the broker connections are open and every queue is consuming or deliberately paused (circuit
     * breaker open, coordination store down): what a health probe reports. False before start, after close, and
     * while a connection is down or recovering. Never blocks (a health probe may call it any time).
     */
    public boolean isHealthy() {
        return started && !closing && isConnected()
                && consumers.stream().allMatch(c -> c.isConsuming() || c.isPaused() || c.isWaitingForRoom());
    }

    /** Test seam (package-private): the consuming channel of {@code queue}. */
    com.rabbitmq.client.@Nullable Channel consumerChannelForTests(String queue) {
        return consumers.stream().filter(c -> c.queue().equals(queue)).findFirst()
                .map(QueueConsumer::channelForTests).orElse(null);
    }

    /**
     * Stops consuming {@code queue} until {@link #resume}; in-flight deliveries finish normally. Waits until the
     * broker confirmed the cancel, at most {@code QueueConsumer.CONTROL_WAIT} (60 s); holds no lock meanwhile, so
     * {@link #isHealthy()} keeps answering.
     *
     * @throws HopperException when the worker's control thread did not get it done in time (or is closed)
     */
    public void pause(String queue, String why) {
        awaitAll(consumers.stream().filter(c -> c.queue().equals(queue))
                .map(c -> c.pause(QueueControl.Hold.MANUAL, why)).toList(), "pause " + queue);
    }

    /**
     * Like {@link #pause}, and the deliveries this worker already holds for {@code queue} that have not started go
     * back to the queue unrun (as confirmed copies, no attempt used) instead of running: for a pause because the
     * handler cannot run at all (a deployment error, e.g. an {@code --exec} command that is missing). Running ones
     * finish. Waits (bounded) like {@link #pause}; {@link #resume} undoes it.
     */
    public void pauseHandingBack(String queue, String why) {
        awaitAll(consumers.stream().filter(c -> c.queue().equals(queue)).map(c -> c.pauseHandingBack(why)).toList(),
                "pause " + queue);
    }

    /** Consumes {@code queue} again after {@link #pause} or {@link #pauseHandingBack}. Waits (bounded) like it. */
    public void resume(String queue, String why) {
        awaitAll(consumers.stream().filter(c -> c.queue().equals(queue))
                .map(c -> c.resume(QueueControl.Hold.MANUAL, why)).toList(), "resume " + queue);
    }

    private static void awaitAll(List<CompletableFuture<Void>> futures, String what) {
        try {
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                    .get(QueueConsumer.CONTROL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new HopperException("could not " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new HopperException("could not " + what + " within " + QueueConsumer.CONTROL_WAIT.toSeconds()
                    + "s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HopperException("interrupted while waiting to " + what, e);
        }
    }

    /**
     * True once {@link #close()} had to interrupt handlers still running at the end of the drain timeout (their
     * deliveries go back to the queue); a process supervisor may want to know (the CLI exits non-zero).
     */
    public boolean drainTimedOut() {
        return drainTimedOut;
    }

    /** Graceful shutdown; see the class documentation. Idempotent. */
    @Override
    public void close() {
        List<QueueConsumer> cs;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            cs = consumers;
        }
        for (QueueConsumer c : cs) {
            try {
                c.stopConsuming();
            } catch (RuntimeException e) {
                log.warn("could not cancel consuming queue={}: {}", c.queue(), e.getMessage());
            }
        }
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        BatchedStore batched = batchedStore;
        // A lock call still out hands its delivery on when answered: let it land while the pools take work, so the
        // delivery goes back as a copy and frees its key (a shut pool refuses it: nacked, lock left to its lease).
        if (batched != null && !awaitStore(batched::awaitLockAnswers, deadline)) {
            log.warn("lock calls still unanswered at the drain timeout; their keys stay locked until their lease "
                    + "ends");
        }
        // From here what the pools refuse (a lane's next delivery, released when a handler of its key finishes; a
        // late lock answer) waits for this thread instead of being nacked, which would count a delivery.
        lateHandOns.collect();
        for (ExecutorService p : pools) {
            p.shutdown();
        }
        for (ThreadPoolExecutor p : pools) {
            handBackWaiting(p);
        }
        for (ExecutorService p : pools) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !p.awaitTermination(left, TimeUnit.NANOSECONDS)) {
                    log.warn("handlers still running after the drain timeout; their deliveries go back to the queue");
                    drainTimedOut = true;
                    p.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.shutdownNow();
            }
        }
        // Completions still out carry acks: let them go out before the channels close (else the broker redelivers
        // tasks already done, which the done-marker then skips).
        if (batched != null && !awaitStore(batched::awaitCompletions, deadline)) {
            log.warn("completions still unanswered at the drain timeout; their tasks may be delivered again and "
                    + "skipped as done");
        }
        // After the completions: one that settles lets the next delivery of its key start, which is refused now.
        int carried = lateHandOns.carryOn(deadline);
        if (carried > 0) {
            log.info("handed back {} deliveries that were handed on after the handler threads stopped", carried);
        }
        synchronized (this) {
            closeResources();
        }
        log.info("worker stopped id={}", workerId);
        terminated.countDown();
    }

    /** A wait of {@link #close()} on the store's answers, until {@code deadline}; interrupted: gives up. */
    private interface StoreWait {
        boolean await(long deadlineNanos) throws InterruptedException;
    }

    private static boolean awaitStore(StoreWait wait, long deadlineNanos) {
        try {
            return wait.await(deadlineNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Carries out, on the closing thread, what waits in a queue's hand-off for one of its threads: deliveries that
     * have not started (with the worker closing they go back unrun, as copies, releasing a lock they took on arrival)
     * and settlements. Their threads may all be in handlers that outlast the drain timeout, and what is still queued
     * then is dropped by {@code shutdownNow}: the broker would requeue those deliveries with the channel (counting a
     * delivery against the queue's limit) and their locks would hold their keys until the lease ends. The queue is
     * drained once: what the threads hand on afterwards is refused and handed back by the hand-off itself.
     */
    private static void handBackWaiting(ThreadPoolExecutor pool) {
        List<Runnable> waiting = new ArrayList<>();
        pool.getQueue().drainTo(waiting);
        for (Runnable r : waiting) {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.error("could not hand back a waiting delivery while closing (a bug in Hopper)", e);
            }
        }
    }

    /**
     * Makes SIGTERM and SIGINT (Ctrl-C) stop this worker gracefully ({@link #close()}: stop consuming, let running
     * handlers finish within the drain timeout, hand back the rest) and then exit the JVM with status 0 through
     * {@link System#exit}, so that other shutdown hooks run too. Without it the JVM would cut running handlers
     * (safe, through redelivery, but not graceful) and report status 143. Also closes the worker on any other JVM
     * shutdown (e.g. {@code System.exit} elsewhere) with a shutdown hook. Call it once, before or after
     * {@link #start()}; later calls do nothing.
     *
     * <p>Signal handling uses {@code sun.misc.Signal} (module {@code jdk.unsupported}); where a signal cannot be
     * handled (a JVM started with {@code -Xrs}, or another handler that must stay), only the shutdown hook is
     * installed, and the JVM's exit status on that signal stays its own.
     *
     * @return this worker
     */
    public Worker registerShutdownHook() {
        if (!shutdownHookRegistered.compareAndSet(false, true)) {
            return this;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            close();
            awaitTerminationQuietly();
        }, "hopper-shutdown-" + workerId));
        sun.misc.SignalHandler onSignal = signal -> {
            // Not on the signal thread: the drain takes up to the drain timeout.
            Thread stop = new Thread(() -> {
                log.info("worker stopping on SIG{} id={}: letting running tasks finish (up to {}s)",
                        signal.getName(), workerId, drainTimeout.toSeconds());
                close();
                System.exit(0);
            }, "hopper-signal-" + workerId);
            stop.start();
        };
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), onSignal);
            } catch (IllegalArgumentException e) {
                log.debug("cannot handle SIG{} ({}); the shutdown hook still closes the worker", name, e.getMessage());
            }
        }
        return this;
    }

    /**
     * Blocks until {@link #close()} has finished (called by this thread's caller, another thread, or the shutdown
     * hook of {@link #registerShutdownHook()}): what a {@code main} method of a worker process waits on.
     *
     * @throws InterruptedException when interrupted while waiting
     */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** Like {@link #awaitTermination()}, for at most {@code timeout}; returns whether the worker has stopped. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void awaitTerminationQuietly() {
        try {
            // A close already running on another thread finishes within the drain timeout and a few closes.
            terminated.await(drainTimeout.toMillis() + 30_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes what start created, newest first; one failure does not keep the rest open. */
    private void closeResources() {
        for (ExecutorService p : pools) {
            p.shutdownNow();
        }
        while (!resources.isEmpty()) {
            AutoCloseable r = resources.pop();
            try {
                r.close();
            } catch (Exception e) {
                log.warn("error while closing the worker: {}", e.toString());
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    static String defaultWorkerId() {
        String jvm = ManagementFactory.getRuntimeMXBean().getName(); // pid@host
        return jvm + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Builds a {@link Worker}. Not thread-safe. */
    public static final class Builder {
        private @Nullable BrokerConfig brokerConfig;
        private @Nullable BrokerConnection consumeConnection;
        private @Nullable BrokerConnection publishConnection;
        private @Nullable HopperConfig config;
        private final List<String> queues = new ArrayList<>();
        private final Map<String, RegisteredHandler<?>> handlers = new LinkedHashMap<>();
        private @Nullable RegisteredHandler<?> fallback;
        private @Nullable CoordinationStore store;
        private boolean markUnkeyedDone;
        private Clock clock = Clock.systemUTC();
        private String workerId = defaultWorkerId();
        private WorkerListener listener = new WorkerListener() {};
        private Duration drainTimeout = Duration.ofSeconds(30);
        private int publishWindow = 1000;
        private ObjectMapper mapper = TaskJson.newMapper();
        private java.util.function.Consumer<String> afterCompleteHook = id -> { };
        private @Nullable MeterRegistry meterRegistry;
        private boolean declareTopology = true;
        private int maxFollowUps = FollowUpStore.DEFAULT_MAX_CHILDREN;
        private Duration groupRetention = FollowUpStore.DEFAULT_RETENTION;

        private Builder() {}

        /**
         * Whether {@link Worker#start()} declares the exchanges and queues it consumes first (default true):
         * idempotent, and a queue that exists with other arguments fails the start. Turn it off when the worker's
         * broker user has no configure permission and a deployer declares them ({@code hopper topology declare}).
         */
        public Builder declareTopology(boolean on) {
            this.declareTopology = on;
            return this;
        }

        /**
         * Test seam (package-private): runs with the message id after a success was recorded in the store and
         * before the ack, so crash tests can kill the JVM at exactly that point.
         */
        Builder afterCompleteHook(java.util.function.Consumer<String> hook) {
            this.afterCompleteHook = requireNonNull(hook, "hook");
            return this;
        }

        /**
         * Connect with this config; the worker opens (and closes) a consuming and a publishing connection. The
         * consuming one runs the worker's consumer callbacks on its I/O thread
         * ({@link BrokerConfig.Builder#dispatchOnIoThread}, whatever {@code config} says): they never wait.
         */
        public Builder broker(BrokerConfig config) {
            this.brokerConfig = requireNonNull(config, "config");
            return this;
        }

        /**
         * Use these connections (not closed by the worker). {@code publish} carries retry and dead-letter copies;
         * pass the same connection twice only if its publishers can never be blocked. Open {@code consume} with
         * {@link BrokerConfig.Builder#dispatchOnIoThread} for the worker's cheaper hand-off (unless other consumers
         * on it wait in their callbacks); without it, deliveries take one more thread hop.
         */
        public Builder connections(BrokerConnection consume, BrokerConnection publish) {
            this.consumeConnection = requireNonNull(consume, "consume");
            this.publishConnection = requireNonNull(publish, "publish");
            return this;
        }

        /** The queues, tiers and policies (hopper.yml). */
        public Builder config(HopperConfig config) {
            this.config = requireNonNull(config, "config");
            return this;
        }

        /** Consume only these of the configured queues (default: all of them). */
        public Builder queues(String... names) {
            queues.addAll(List.of(names));
            return this;
        }

        /** Runs {@code handler} for tasks of {@code type}, with the JSON body read as {@code payloadType}. */
        public <T> Builder handler(String type, Class<T> payloadType, TaskHandler<T> handler) {
            requireNonNull(type, "type");
            requireNonNull(payloadType, "payloadType");
            requireNonNull(handler, "handler");
            if (handlers.put(type, new RegisteredHandler<>(type, payloadType, mapper.readerFor(payloadType), handler))
                    != null) {
                throw new IllegalArgumentException("a handler for type '" + type + "' is already registered");
            }
            return this;
        }

        /**
         * Runs {@code handler} for every task type that has no handler of its own (without one, such tasks are
         * dead-lettered as {@code unknown-type}). With {@code byte[].class} the handler gets the JSON body as it
         * arrived (checked to be well-formed), e.g. to pass it to a process or an HTTP endpoint. Metrics tag these
         * tasks' type as {@code unknown}, since the set of types is open.
         */
        public <T> Builder defaultHandler(Class<T> payloadType, TaskHandler<T> handler) {
            if (fallback != null) {
                throw new IllegalArgumentException("a default handler is already registered");
            }
            fallback = new RegisteredHandler<>("*", requireNonNull(payloadType, "payloadType"),
                    mapper.readerFor(payloadType), requireNonNull(handler, "handler"));
            return this;
        }

        /** The mapper payloads are read with; set it before registering handlers. Default: {@link TaskJson}. */
        public Builder objectMapper(ObjectMapper mapper) {
            if (!handlers.isEmpty() || fallback != null) {
                throw new IllegalStateException("set the object mapper before registering handlers");
            }
            this.mapper = requireNonNull(mapper, "mapper");
            return this;
        }

        /**
         * Locks, revisions and done-markers for keyed tasks (not closed by the worker). Default: an
         * {@link InMemoryCoordinationStore}, which coordinates the threads of this process only; several worker
         * processes need a shared store ({@code RedisCoordinationStore}).
         */
        public Builder coordinationStore(CoordinationStore store) {
            this.store = requireNonNull(store, "store");
            return this;
        }

        /**
         * Also record a done-marker for every completed task without a key, and check the markers on every
         * delivery (not only redeliveries), so a redelivery after a worker died between its handler's end and its
         * ack, and a copy a publisher sent again under the same message id after losing its confirm, are acked
         * unrun. Off by default: it costs store round trips per task, and with the in-memory store it only helps
         * within one process. Keyed tasks always get a marker, in the same atomic step that releases their lock.
         */
        public Builder markUnkeyedDone(boolean on) {
            this.markUnkeyedDone = on;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /** Written as {@code x-hopper-worker} on dead letters and used in lock owners. Default: pid@host-random. */
        public Builder workerId(String id) {
            this.workerId = requireNonNull(id, "id");
            return this;
        }

        public Builder listener(WorkerListener listener) {
            this.listener = requireNonNull(listener, "listener");
            return this;
        }

        /** How long {@link Worker#close()} lets running handlers finish. Default 30s. */
        public Builder drainTimeout(Duration d) {
            this.drainTimeout = requireNonNull(d, "drainTimeout");
            return this;
        }

        /** Most unconfirmed retry/dead-letter copies at once. Default 1000. */
        public Builder publishWindow(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("publishWindow must be >= 1");
            }
            this.publishWindow = n;
            return this;
        }

        /**
         * Records {@link WorkerMetrics}' meters in {@code registry} (any Micrometer registry: Prometheus, simple,
         * composite...). Without one the worker records no metrics.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = requireNonNull(registry, "registry");
            return this;
        }

        /**
         * The most follow-ups one handler run may ask for ({@link TaskContext#followUp}), the join not counted.
         * Default {@value dev.hopper.coordination.FollowUpStore#DEFAULT_MAX_CHILDREN}; at most
         * {@value dev.hopper.coordination.GroupPlan#MAX_CHILDREN_CEILING}.
         */
        public Builder maxFollowUps(int n) {
            if (n < 1 || n > GroupPlan.MAX_CHILDREN_CEILING) {
                throw new IllegalArgumentException("maxFollowUps must be 1.." + GroupPlan.MAX_CHILDREN_CEILING
                        + ", was " + n);
            }
            this.maxFollowUps = n;
            return this;
        }

        /**
         * How long a parent's follow-up group (children done, results, join) outlives its last change in the
         * coordination store. Default 7 days. A follow-up dead-lettered for longer than this and then replayed runs,
         * but fires no join: keep it above the dead-letter queues' retention.
         */
        public Builder groupRetention(Duration d) {
            requireNonNull(d, "groupRetention");
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("groupRetention must be positive, was " + d);
            }
            this.groupRetention = d;
            return this;
        }

        public Worker build() {
            if ((brokerConfig == null) == (consumeConnection == null)) {
                throw new IllegalArgumentException("give the worker either broker(config) or connections(...)");
            }
            return new Worker(this);
        }
    }
}
