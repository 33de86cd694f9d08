package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.coordination.LockResult;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.LockSpec;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.TaskJson;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.StoreUnavailableException;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The delivery path end to end on a fake channel: settled exactly once, copies confirmed before the ack. */
class DeliveryExecutorTest {
    private static final String QUEUE = "orders";
    private final FakeBroker broker = new FakeBroker();
    private final InMemoryCoordinationStore store = new InMemoryCoordinationStore();
    private final ExecutorService renewals = Executors.newCachedThreadPool();
    private final ScheduledExecutorService sweeps = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong tags = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
    private final List<String> storeDown = new ArrayList<>();
    private volatile boolean storeKnownDown;
    private volatile boolean shuttingDown;
    /** Two run slots: the mix below delivers on eight threads. */
    private final RunSlots runSlots = new RunSlots(2, Duration.ofSeconds(30), System::nanoTime);

    record Job(int n) {}

    @AfterEach
    void stop() {
        renewals.shutdownNow();
        sweeps.shutdownNow();
    }

    private DeliveryExecutor executor(TaskHandler<Job> handler) {
        return executor(handler, store, Duration.ofMinutes(1));
    }

    private DeliveryExecutor executor(TaskHandler<Job> handler, CoordinationStore store, Duration timeout) {
        return executor(handler, store, timeout, new WorkerListener() {});
    }

    private DeliveryExecutor executor(TaskHandler<Job> handler, CoordinationStore store, Duration timeout,
            WorkerListener listener) {
        QueueSpec spec = QueueSpec.builder(QUEUE).tiers(List.of(DelayTier.parse("5s"), DelayTier.parse("30s")))
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(5)).withMaxAttempts(3)).handlerTimeout(timeout)
                .lock(new LockSpec(Duration.ofSeconds(30), 3, SupersededPolicy.SKIP)).build();
        Map<String, RegisteredHandler<?>> handlers = Map.of("job", new RegisteredHandler<>("job", Job.class,
                TaskJson.newMapper().readerFor(Job.class), handler));
        DeadlineSweeper sweeper = new DeadlineSweeper(store, renewals, System::nanoTime);
        sweeps.scheduleWithFixedDelay(sweeper::sweep, 10, 10, TimeUnit.MILLISECONDS);
        DeliveryGate gate = new DeliveryGate(null, null);
        StoreHealth health = new StoreHealth() {
            @Override
            public void unavailable(StoreUnavailableException e) {
                storeDown.add(e.getMessage());
            }

            @Override
            public boolean isDown() {
                return storeKnownDown;
            }
        };
        DeliveryEffects effects = new DeliveryEffects(QUEUE, new DeliveryEffects.Store(store, health,
                System::nanoTime), gate,
                new HandlerRunner(QUEUE, Clock.systemUTC(), sweeper, System::nanoTime, () -> false), id -> { },
                new FollowUpEffects(QUEUE, new FollowUpEffects.Setup(store, health, broker, Clock.systemUTC(),
                        Duration.ofSeconds(5), TaskJson.newMapper(), 100, new WorkerListener() {})),
                new StartSlots(Duration.ofMinutes(1)), runSlots);
        return new DeliveryExecutor(QUEUE, new DeliveryReader(spec.maxBodyBytes(), handlers, null),
                new DeliveryDecider(spec, handlers.keySet(), false, Duration.ofHours(1)), effects,
                new DecisionSettler(QUEUE, new RetryRouter(broker), new DeadLetterPublisher(broker, Clock.systemUTC(),
                        "w-1"), Duration.ofSeconds(5)),
                new DeliveryExecutor.Hooks("w-1", () -> shuttingDown, listener));
    }

    private long deliver(DeliveryExecutor executor, String json, String key) {
        return deliver(executor, json, key, true);
    }

    private long deliver(DeliveryExecutor executor, String json, String key, boolean alone) {
        TaskEnvelope env = TaskEnvelope.fresh("id-" + tags.get(), "job", key, null, Instant.now(),
                json.getBytes(StandardCharsets.UTF_8));
        return deliver(executor, EnvelopeCodec.properties(env), env.body(), alone);
    }

    private long deliver(DeliveryExecutor executor, AMQP.BasicProperties props, byte[] body) {
        return deliver(executor, props, body, true);
    }

    /** {@code alone}: no other thread delivers, so no completion batch can be in flight. */
    private long deliver(DeliveryExecutor executor, AMQP.BasicProperties props, byte[] body, boolean alone) {
        long tag = tags.incrementAndGet();
        int before = finished.get();
        executor.execute(broker, new Envelope(tag, false, "hopper.tasks", QUEUE), props, body,
                finished::incrementAndGet);
        if (alone) {
            // The completion's batch is sent by this thread, so its continuation ran before execute returned.
            assertThat(finished.get()).as("finished once, before execute returned").isEqualTo(before + 1);
        }
        return tag;
    }

    @Test
    void successIsAckedOnceAndPublishesNothing() {
        long tag = deliver(executor((job, ctx) -> { }), "{\"n\":1}", null);

        assertThat(broker.log).containsExactly("ack " + tag);
        assertThat(broker.copies).isEmpty();
    }

    @Test
    void aRetryCopyIsConfirmedBeforeTheOriginalIsAcked() {
        long tag = deliver(executor((job, ctx) -> {
            throw new IllegalStateException("downstream down");
        }), "{\"n\":1}", null);

        assertThat(broker.log).containsExactly("publish /" + QueueNames.retryQueue(QUEUE, DelayTier.parse("5s")),
                "ack " + tag);
        Map<String, Object> h = broker.copies.get(0).props().getHeaders();
        assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(1);
        assertThat(HeaderValues.text(h, Headers.RETRY_REASON)).contains("error");
        assertThat(HeaderValues.text(h, Headers.ERROR_MESSAGE)).contains("downstream down");
    }

    @Test
    void whenTheCopyIsNotConfirmedTheOriginalIsRejectedWithRequeueAndNotAcked() {
        broker.confirms = FakeBroker.Confirms.NACK;
        long tag = deliver(executor((job, ctx) -> {
            throw new IllegalStateException("boom");
        }), "{\"n\":1}", null);

        assertThat(broker.log).containsExactly("publish /" + QueueNames.retryQueue(QUEUE, DelayTier.parse("5s")),
                "reject " + tag);
    }

    @Test
    void aDeadLetterIsConfirmedBeforeTheAckAndAFailedOneIsRejected() {
        DeliveryExecutor ex = executor((job, ctx) -> { });
        long malformed = deliver(ex, "{not json", null);
        broker.confirms = FakeBroker.Confirms.NACK;
        long unlucky = deliver(ex, "{not json", null);

        assertThat(broker.log).containsExactly("publish " + QueueNames.DEAD_EXCHANGE + "/" + QUEUE,
                "ack " + malformed, "publish " + QueueNames.DEAD_EXCHANGE + "/" + QUEUE, "reject " + unlucky);
        assertThat(HeaderValues.text(broker.copies.get(0).props().getHeaders(), Headers.DEAD_REASON))
                .contains("malformed");
    }

    @Test
    void aPublisherThatThrowsStillSettlesTheDeliveryOnceWithRejectAndReleasesTheLock() {
        broker.confirms = FakeBroker.Confirms.THROW;
        long tag = deliver(executor((job, ctx) -> {
            throw new IllegalStateException("boom");
        }), "{\"n\":1}", "K");

        assertThat(broker.log).containsExactly("reject " + tag);
        assertThat(store.checkAndLock("K", null, "other", Duration.ofSeconds(1), false))
                .isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void aKeyedSuccessRecordsItsDoneMarkerBeforeTheAckAndReleasesTheLock() {
        DeliveryExecutor ex = executor((job, ctx) -> {
            assertThat(ctx.fencingToken()).isPresent();
            assertThat(store.isCompleted(ctx.messageId())).isFalse();
        });
        TaskEnvelope env = TaskEnvelope.fresh("keyed-1", "job", "K", null, Instant.now(),
                "{\"n\":1}".getBytes(StandardCharsets.UTF_8));
        long tag = deliver(ex, EnvelopeCodec.properties(env), env.body());

        assertThat(broker.log).containsExactly("ack " + tag);
        assertThat(store.isCompleted("keyed-1")).isTrue();
        assertThat(store.checkAndLock("K", null, "other", Duration.ofSeconds(1), false))
                .isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void aKeyedSettlementCarriesItsLockCheckTimeAndAnUnkeyedOneNone() {
        List<WorkerListener.Settled> settled = new java.util.concurrent.CopyOnWriteArrayList<>();
        DeliveryExecutor ex = executor((job, ctx) -> { }, store, Duration.ofMinutes(1), new WorkerListener() {
            @Override
            public void onSettled(Settled e) {
                settled.add(e);
            }
        });
        store.checkAndLock("BUSY", null, "someone-else", Duration.ofSeconds(20), false);

        deliver(ex, "{\"n\":1}", "K");
        deliver(ex, "{\"n\":2}", null);
        deliver(ex, "{\"n\":3}", "BUSY");

        assertThat(settled).extracting(WorkerListener.Settled::outcome)
                .containsExactly(Outcome.SUCCESS, Outcome.SUCCESS, Outcome.LOCK_BUSY);
        assertThat(settled.get(0).lockCheck()).isNotNull().matches(d -> !d.isNegative(), "not negative");
        assertThat(settled.get(1).lockCheck()).isNull();
        assertThat(settled.get(2).lockCheck()).as("a busy answer is an answer").isNotNull();
    }

    @Test
    void aBusyKeyGoesBackThroughATierWithoutRunning() {
        store.checkAndLock("K", null, "someone-else", Duration.ofSeconds(20), false);
        AtomicInteger runs = new AtomicInteger();
        long tag = deliver(executor((job, ctx) -> runs.incrementAndGet()), "{\"n\":1}", "K");

        assertThat(runs.get()).isZero();
        assertThat(broker.log).containsExactly("publish /" + QueueNames.retryQueue(QUEUE, DelayTier.parse("30s")),
                "ack " + tag);
        assertThat(HeaderValues.text(broker.copies.get(0).props().getHeaders(), Headers.RETRY_REASON))
                .contains("lock-busy");
    }

    @Test
    void aBusyKeyReleasedWhileTheTaskWaitsInHandRunsAtOnceWithoutATier() {
        long token = ((LockResult.Acquired) store.checkAndLock("K", null, "someone-else", Duration.ofSeconds(20),
                false)).fencingToken();
        // Released well inside the 2 s wait-in-hand.
        java.util.concurrent.CompletableFuture.delayedExecutor(150, java.util.concurrent.TimeUnit.MILLISECONDS)
                .execute(() -> store.release("K", "someone-else", token));
        AtomicInteger runs = new AtomicInteger();
        long tag = deliver(executor((job, ctx) -> runs.incrementAndGet()), "{\"n\":1}", "K");

        assertThat(runs.get()).isEqualTo(1);
        assertThat(broker.log).containsExactly("ack " + tag);
        assertThat(broker.copies).isEmpty();
    }

    @Test
    void aHandlerThatReturnsNormallyAfterItsTimeoutFiredSucceedsAndIsNotRetriedAsATimeout() {
        AtomicInteger interrupted = new AtomicInteger();
        long tag = deliver(executor((job, ctx) -> {
            long until = System.nanoTime() + Duration.ofMillis(600).toNanos();
            while (System.nanoTime() < until) {
                if (Thread.interrupted()) { // a handler that finishes its work anyway
                    interrupted.incrementAndGet();
                }
            }
        }, store, Duration.ofMillis(200)), "{\"n\":1}", null);

        assertThat(interrupted.get()).as("the timeout fired while it ran").isEqualTo(1);
        assertThat(broker.log).containsExactly("ack " + tag);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void aHandlerThatThrowsAfterItsTimeoutIsRetriedAsATimeout() {
        long tag = deliver(executor((job, ctx) -> Thread.sleep(10_000), store, Duration.ofMillis(200)),
                "{\"n\":1}", null);

        assertThat(broker.log).containsExactly("publish /" + QueueNames.retryQueue(QUEUE, DelayTier.parse("5s")),
                "ack " + tag);
        assertThat(HeaderValues.text(broker.copies.get(0).props().getHeaders(), Headers.ERROR_CLASS))
                .contains(HandlerTimeoutException.class.getName());
    }

    @Test
    void aStoreThatDoesNotAnswerHandsTheTaskBackAsACopyOrByNackWhenTheCopyFails() {
        CoordinationStore down = new ForwardingStore(store) {
            @Override
            public LockResult checkAndLock(String key, @Nullable Long revision, String owner, Duration lease,
                    boolean lockIfSuperseded) {
                throw new StoreUnavailableException("checkAndLock", new java.io.IOException("connection refused"));
            }
        };
        AtomicInteger runs = new AtomicInteger();
        DeliveryExecutor ex = executor((job, ctx) -> runs.incrementAndGet(), down, Duration.ofMinutes(1));
        long copied = deliver(ex, "{\"n\":1}", "K");
        broker.confirms = FakeBroker.Confirms.NACK;
        long nacked = deliver(ex, "{\"n\":2}", "K");

        assertThat(runs.get()).isZero();
        assertThat(broker.log).containsExactly("publish " + QueueNames.TASKS_EXCHANGE + "/" + QUEUE, "ack " + copied,
                "publish " + QueueNames.TASKS_EXCHANGE + "/" + QUEUE, "nack " + nacked);
        assertThat(storeDown).hasSize(2);
    }

    @Test
    void whileTheStoreIsKnownDownAKeyedTaskGoesBackWithoutCallingIt() {
        AtomicInteger calls = new AtomicInteger();
        CoordinationStore counting = new ForwardingStore(store) {
            @Override
            public LockResult checkAndLock(String key, @Nullable Long revision, String owner, Duration lease,
                    boolean lockIfSuperseded) {
                calls.incrementAndGet();
                return super.checkAndLock(key, revision, owner, lease, lockIfSuperseded);
            }
        };
        storeKnownDown = true;
        long tag = deliver(executor((job, ctx) -> { }, counting, Duration.ofMinutes(1)), "{\"n\":1}", "K");

        assertThat(calls.get()).isZero();
        assertThat(broker.log).containsExactly("publish " + QueueNames.TASKS_EXCHANGE + "/" + QUEUE, "ack " + tag);
    }

    @Test
    void everyDeliveryOfAConcurrentMixIsSettledExactlyOnce() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        DeliveryExecutor ex = executor((job, ctx) -> {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                Thread.sleep(1);
            } finally {
                running.decrementAndGet();
            }
            if (job.n() % 3 == 1) {
                throw new IllegalStateException("odd one");
            }
            if (job.n() % 3 == 2) {
                throw new PermanentTaskException("bad one");
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Long>> tagsSent = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                int n = i;
                String key = i % 4 == 0 ? "K" + (i % 7) : null;
                String json = i % 10 == 9 ? "{broken" : "{\"n\":" + n + "}";
                tagsSent.add(pool.submit(() -> deliver(ex, json, key, false)));
            }
            Set<Long> sent = new java.util.HashSet<>();
            for (Future<Long> f : tagsSent) {
                sent.add(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(broker.settlements.keySet()).isEqualTo(sent);
            // A thread whose completion joined another's batch returned before its ack; the sending thread
            // returns only when no completion is left, so once all have returned every delivery is finished.
            assertThat(finished.get()).isEqualTo(300);
            assertThat(sent).allSatisfy(t -> assertThat(broker.settlementsOf(t)).as("settlements of %d", t)
                    .isEqualTo(1));
            // Eight delivery threads, two run slots: never more handlers at once, and every slot given back
            // (runs that failed, dead letters, malformed deliveries that never took one).
            assertThat(mostAtOnce.get()).isEqualTo(2);
            assertThat(runSlots.inUse()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- DeliveryExecutor.start: as far as the lock on the arriving thread, the rest on a delivery thread ----

    /** Delivery threads the test runs by hand; they refuse work once {@code refuse} is set (shutdown). */
    private static final class HandRunThreads implements java.util.concurrent.Executor {
        final java.util.concurrent.BlockingQueue<Runnable> queued = new java.util.concurrent.LinkedBlockingQueue<>();
        volatile boolean refuse;

        @Override
        public void execute(Runnable r) {
            if (refuse) {
                throw new java.util.concurrent.RejectedExecutionException("shut down");
            }
            queued.add(r);
        }

        void runNext() {
            Runnable r = queued.poll();
            assertThat(r).as("a delivery was handed to a delivery thread").isNotNull();
            r.run();
        }
    }

    private long start(DeliveryExecutor executor, String key, HandRunThreads threads,
            java.util.function.BooleanSupplier channelOpen) {
        TaskEnvelope env = TaskEnvelope.fresh("id-" + tags.get(), "job", key, null, Instant.now(),
                "{\"n\":1}".getBytes(StandardCharsets.UTF_8));
        long tag = tags.incrementAndGet();
        executor.start(broker, new Envelope(tag, false, "hopper.tasks", QUEUE), EnvelopeCodec.properties(env),
                env.body(), new DeliveryExecutor.DeliveryThreads(threads, channelOpen), finished::incrementAndGet);
        return tag;
    }

    private boolean keyIsFree(String key) {
        LockResult probe = store.checkAndLock(key, null, "probe", Duration.ofSeconds(1), false);
        if (probe instanceof LockResult.Acquired a) {
            store.release(key, "probe", a.fencingToken());
            return true;
        }
        return false;
    }

    @Test
    void aKeyedDeliveryTakesItsLockOnTheArrivingThreadAndRunsItsHandlerOnADeliveryThread() {
        HandRunThreads threads = new HandRunThreads();
        List<Thread> ranOn = new ArrayList<>();
        DeliveryExecutor ex = executor((job, ctx) -> ranOn.add(Thread.currentThread()));

        long tag = start(ex, "K", threads, () -> true);

        assertThat(ranOn).isEmpty();
        assertThat(threads.queued).hasSize(1);
        assertThat(keyIsFree("K")).as("locked before any delivery thread was woken").isFalse();
        Thread runner = new Thread(threads::runNext);
        runner.start();
        assertThat(joined(runner)).isTrue();
        assertThat(ranOn).containsExactly(runner);
        assertThat(broker.log).containsExactly("ack " + tag);
        assertThat(keyIsFree("K")).isTrue();
        assertThat(finished.get()).isEqualTo(1);
    }

    @Test
    void aDeliveryWhoseChannelClosedBeforeItRanIsDroppedUnrunAndItsLockReleased() {
        HandRunThreads threads = new HandRunThreads();
        AtomicInteger runs = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);
        DeliveryExecutor ex = executor((job, ctx) -> runs.incrementAndGet());

        start(ex, "K", threads, open::get);
        open.set(false);
        threads.runNext();

        assertThat(runs.get()).isZero();
        assertThat(broker.log).as("the broker requeued it with the channel: nothing to settle").isEmpty();
        assertThat(keyIsFree("K")).isTrue();
        assertThat(finished.get()).isEqualTo(1);
        start(ex, "L", threads, open::get);
        assertThat(threads.queued).as("a start on a closed channel goes nowhere").isEmpty();
        assertThat(keyIsFree("L")).isTrue();
        assertThat(finished.get()).isEqualTo(2);
    }

    @Test
    void aDeliveryThatReachesItsThreadAfterShutdownBeganGoesBackUnrunAndReleasesItsLock() {
        HandRunThreads threads = new HandRunThreads();
        AtomicInteger runs = new AtomicInteger();
        DeliveryExecutor ex = executor((job, ctx) -> runs.incrementAndGet());

        long tag = start(ex, "K", threads, () -> true);
        shuttingDown = true;
        threads.runNext();

        assertThat(runs.get()).isZero();
        assertThat(broker.log).containsExactly("publish " + QueueNames.TASKS_EXCHANGE + "/" + QUEUE, "ack " + tag);
        assertThat(keyIsFree("K")).isTrue();
        assertThat(finished.get()).isEqualTo(1);
    }

    @Test
    void aDeliveryTheDeliveryThreadsRefuseIsNackedUnrun() {
        HandRunThreads threads = new HandRunThreads();
        threads.refuse = true;
        AtomicInteger runs = new AtomicInteger();
        DeliveryExecutor ex = executor((job, ctx) -> runs.incrementAndGet());

        long tag = start(ex, "K", threads, () -> true);

        assertThat(runs.get()).isZero();
        assertThat(broker.log).containsExactly("nack " + tag);
        assertThat(finished.get()).isEqualTo(1);
    }

    @Test
    void aCompletionAnsweredOnTheStoresThreadIsAckedThereWithoutAnotherHandOn() throws Exception {
        ExecutorService io = Executors.newSingleThreadExecutor(r -> new Thread(r, "store-io"));
        List<Runnable> heldCompletions = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            CoordinationStore answeringOnIo = new ForwardingStore(store) {
                @Override
                public java.util.concurrent.CompletionStage<List<LockResult>> checkAndLockAllAsync(
                        List<dev.hopper.coordination.LockRequest> requests) {
                    return java.util.concurrent.CompletableFuture.supplyAsync(() -> checkAndLockAll(requests), io);
                }

                @Override
                public java.util.concurrent.CompletionStage<Void> completeAllAsync(
                        List<dev.hopper.coordination.Completion> completions) {
                    // Answered when the test says so, so that the answer surely comes on the store's thread.
                    var answer = new java.util.concurrent.CompletableFuture<Void>();
                    heldCompletions.add(() -> {
                        completeAll(completions);
                        answer.complete(null);
                    });
                    return answer;
                }
            };
            HandRunThreads threads = new HandRunThreads();
            List<String> finishedOn = new java.util.concurrent.CopyOnWriteArrayList<>();
            DeliveryExecutor ex = executor((job, ctx) -> { }, answeringOnIo, Duration.ofMinutes(1));
            TaskEnvelope env = TaskEnvelope.fresh("id-io", "job", "K", null, Instant.now(),
                    "{\"n\":1}".getBytes(StandardCharsets.UTF_8));
            long tag = tags.incrementAndGet();

            ex.start(broker, new Envelope(tag, false, "hopper.tasks", QUEUE), EnvelopeCodec.properties(env),
                    env.body(), new DeliveryExecutor.DeliveryThreads(threads, () -> true),
                    () -> finishedOn.add(Thread.currentThread().getName()));
            Runnable run = threads.queued.poll(10, TimeUnit.SECONDS);
            assertThat(run).as("handed on once the lock was answered").isNotNull();
            run.run();
            assertThat(finishedOn).as("the delivery thread left before the completion was answered").isEmpty();
            assertThat(heldCompletions).hasSize(1);
            io.execute(heldCompletions.get(0));

            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !finishedOn.isEmpty());
            assertThat(finishedOn).containsExactly("store-io");
            assertThat(threads.queued).as("the ack needed no delivery thread").isEmpty();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> broker.log.contains("ack " + tag));
            assertThat(broker.log).containsExactly("ack " + tag);
            assertThat(keyIsFree("K")).isTrue();
        } finally {
            io.shutdownNow();
        }
    }

    private static boolean joined(Thread t) {
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }
}
