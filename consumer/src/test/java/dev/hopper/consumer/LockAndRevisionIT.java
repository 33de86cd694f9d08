package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.LockSpec;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import dev.hopper.topology.testing.ThrowawayRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The worker's lock and revision steps (design.md step 3) against the real broker and Redis. */
@ExtendWith(TestQueues.class)
class LockAndRevisionIT {

    record Job(int n) {}

    private static Worker.Builder worker(TestBroker broker, HopperConfig config, CoordinationStore store) {
        return Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("lock-it").build())
                .config(config).coordinationStore(store).drainTimeout(Duration.ofSeconds(10));
    }

    @Test
    void twoWorkerProcessesNeverRunTheSameKeyAtOnceAndTokensGrow(TestBroker broker, TestQueues queues,
            @TempDir Path dir) throws Exception {
        String queue = queues.name("keys");
        String yaml = "queues:\n  " + queue + ":\n    tiers: [1s]\n    concurrency: 4\n    prefetch: 8\n"
                + "    lock: {lease: 2s, max-waits: 10000}\n";
        HopperConfig config = HopperConfig.parse(yaml);
        queues.track(config.requireQueue(queue));
        String namespace = "hopper-it:" + UUID.randomUUID() + ":";
        String redis = TestRedis.get().uri().toString();
        try (TestTasks tasks = new TestTasks(broker, "keys-it-publisher");
                WorkerProcesses workers = new WorkerProcesses(dir, yaml)) {
            tasks.declare(config);
            workers.start(broker, queue, redis, namespace);
            workers.start(broker, queue, redis, namespace);
            await().atMost(Duration.ofSeconds(60)).until(() -> workers.readyCount() == 2);
            Set<String> ids = new java.util.HashSet<>();
            for (int i = 0; i < 1000; i++) {
                ids.add(tasks.publish(queue, "span", "{\"ms\":3,\"halt\":false}", "key-" + (i % 20), null));
            }
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() -> workers.spans()
                    .stream().map(WorkerProcesses.Span::id).collect(Collectors.toSet()).containsAll(ids));

            List<WorkerProcesses.Span> spans = workers.spans();
            assertThat(spans.stream().map(WorkerProcesses.Span::id).collect(Collectors.toSet())).isEqualTo(ids);
            Map<String, List<WorkerProcesses.Span>> byKey = spans.stream()
                    .collect(Collectors.groupingBy(WorkerProcesses.Span::key));
            assertThat(byKey).hasSize(20);
            byKey.values().forEach(WorkerProcesses::assertOneAtATime);
            System.out.printf("LockAndRevisionIT: %d tasks over %d keys, %d runs%n", ids.size(), byKey.size(),
                    spans.size());
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(queue) == 0);
        }
    }

    @Test
    void staleRevisionsAreSkippedUnderSkipAndRunUnderRefresh(TestBroker broker, TestQueues queues) throws Exception {
        for (SupersededPolicy policy : SupersededPolicy.values()) {
            // One thread: this test is about revisions, not lock contention.
            QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("rev-" + policy.wireValue()))
                    .concurrency(1).prefetch(1).lock(new LockSpec(Duration.ofSeconds(5), 10, policy)).build());
            HopperConfig config = HopperConfig.of(List.of(spec));
            InMemoryCoordinationStore store = new InMemoryCoordinationStore();
            List<Long> ran = new CopyOnWriteArrayList<>();
            Map<Outcome, Integer> outcomes = new ConcurrentHashMap<>();
            try (TestTasks tasks = new TestTasks(broker, "rev-it-publisher")) {
                tasks.declare(config);
                long r1 = store.bumpRevision("K");
                tasks.publish(spec.name(), "job", "{\"n\":1}", "K", r1);
                tasks.publish(spec.name(), "job", "{\"n\":2}", "K", r1);
                long r2 = store.bumpRevision("K");
                tasks.publish(spec.name(), "job", "{\"n\":3}", "K", r2);
                try (Worker w = worker(broker, config, store).listener(new WorkerListener() {
                    @Override
                    public void onSettled(Settled e) {
                        outcomes.merge(e.outcome(), 1, Integer::sum);
                    }
                }).handler("job", Job.class, (job, ctx) -> ran.add(ctx.revision().orElseThrow())).build()) {
                    w.start();
                    await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.values().stream()
                            .mapToInt(Integer::intValue).sum() == 3);
                }
                if (policy == SupersededPolicy.SKIP) {
                    assertThat(ran).containsExactly(2L);
                    assertThat(outcomes).isEqualTo(Map.of(Outcome.SUCCESS, 1, Outcome.SUPERSEDED, 2));
                } else {
                    assertThat(ran).containsExactlyInAnyOrder(1L, 1L, 2L);
                    assertThat(outcomes).isEqualTo(Map.of(Outcome.SUCCESS, 3));
                }
                assertThat(tasks.depth(spec.name())).isZero();
            }
        }
    }

    @Test
    void failureWhileTheRevisionMovedIsRequeuedAtOnceUnderRefreshWithoutCountingAnAttempt(TestBroker broker,
            TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("moved"))
                .tiers(List.of(dev.hopper.topology.DelayTier.parse("30s")))
                .lock(new LockSpec(Duration.ofSeconds(5), 10, SupersededPolicy.REFRESH)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        InMemoryCoordinationStore store = new InMemoryCoordinationStore();
        record Run(int attempt, String retryReason, long currentRevision) {}
        List<Run> runs = new CopyOnWriteArrayList<>();
        try (TestTasks tasks = new TestTasks(broker, "moved-it-publisher");
                Worker w = worker(broker, config, store).handler("job", Job.class, (job, ctx) -> {
                    runs.add(new Run(ctx.attempt(), HeaderValues.text(ctx.headers(), Headers.RETRY_REASON).orElse(""),
                            ctx.currentRevision().orElseThrow()));
                    if (runs.size() == 1) {
                        store.bumpRevision("K"); // a producer changed the entity while this run was failing
                        throw new IllegalStateException("stale view of K");
                    }
                }).build()) {
            tasks.declare(config);
            w.start();
            tasks.publish(spec.name(), "job", "{\"n\":1}", "K", store.bumpRevision("K"));
            // The only tier is 30s: a rerun within 20s can only have come straight back through the work queue.
            await().atMost(Duration.ofSeconds(20)).until(() -> runs.size() == 2 && w.inFlight() == 0);
            assertThat(runs).containsExactly(new Run(0, "", 1), new Run(0, "revision-changed", 2));
            assertThat(tasks.depth(spec.retryQueue(spec.tiers().get(0)))).isZero();
            assertThat(tasks.depth(spec.deadQueue())).isZero();
        }
    }

    @Test
    void aKeyBusyPastTheLockWaitBudgetIsDeadLetteredAsLockTimeoutWithoutRunning(TestBroker broker,
            TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("busy"))
                .tiers(List.of(dev.hopper.topology.DelayTier.parse("1s")))
                .lock(new LockSpec(Duration.ofSeconds(5), 2, SupersededPolicy.SKIP)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        InMemoryCoordinationStore store = new InMemoryCoordinationStore();
        List<String> ran = new CopyOnWriteArrayList<>();
        try (TestTasks tasks = new TestTasks(broker, "busy-it-publisher");
                Worker w = worker(broker, config, store).handler("job", Job.class, (job, ctx) -> ran.add(ctx.messageId()))
                        .build()) {
            tasks.declare(config);
            // Another holder keeps the key for far longer than two waits.
            assertThat(store.checkAndLock("K", null, "someone-else", Duration.ofMinutes(1), false))
                    .isInstanceOf(dev.hopper.coordination.LockResult.Acquired.class);
            w.start();
            String id = tasks.publish(spec.name(), "job", "{\"n\":1}", "K", null);
            await().atMost(Duration.ofSeconds(20)).until(() -> tasks.depth(spec.deadQueue()) == 1);
            var dead = tasks.drain(spec.deadQueue()).get(0);
            assertThat(dead.getProps().getMessageId()).isEqualTo(id);
            assertThat(HeaderValues.text(dead.getProps().getHeaders(), Headers.DEAD_REASON)).contains("lock-timeout");
            assertThat(HeaderValues.count(dead.getProps().getHeaders(), Headers.LOCK_WAITS)).contains(2);
            assertThat(HeaderValues.count(dead.getProps().getHeaders(), Headers.ATTEMPT)).contains(0);
            assertThat(ran).isEmpty();
        }
    }

    @Test
    void aLeaseLostWhileRunningInterruptsTheHandlerAndRetriesWithReasonLockLost(TestBroker broker,
            TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("lost"))
                .tiers(List.of(dev.hopper.topology.DelayTier.parse("1s")))
                .lock(new LockSpec(Duration.ofMillis(600), 10, SupersededPolicy.SKIP)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        java.util.concurrent.atomic.AtomicLong skew = new java.util.concurrent.atomic.AtomicLong();
        InMemoryCoordinationStore store = new InMemoryCoordinationStore(java.time.Clock.systemUTC(),
                () -> System.nanoTime() + skew.get());
        record Run(int attempt, String retryReason, boolean interrupted, boolean leaseLost) {}
        List<Run> runs = new CopyOnWriteArrayList<>();
        try (TestTasks tasks = new TestTasks(broker, "lost-it-publisher");
                Worker w = worker(broker, config, store).handler("job", Job.class, (job, ctx) -> {
                    String reason = HeaderValues.text(ctx.headers(), Headers.RETRY_REASON).orElse("");
                    if (ctx.attempt() > 0) {
                        runs.add(new Run(ctx.attempt(), reason, false, ctx.leaseLost()));
                        return;
                    }
                    // Jump the store's clock past the lease and let another owner take the key.
                    skew.addAndGet(Duration.ofSeconds(5).toNanos());
                    store.checkAndLock("K", null, "thief", Duration.ofMillis(600), false);
                    try {
                        Thread.sleep(10_000);
                        runs.add(new Run(0, reason, false, ctx.leaseLost()));
                    } catch (InterruptedException e) {
                        runs.add(new Run(0, reason, true, ctx.leaseLost()));
                        throw e;
                    }
                }).build()) {
            tasks.declare(config);
            w.start();
            tasks.publish(spec.name(), "job", "{\"n\":1}", "K", null);
            await().atMost(Duration.ofSeconds(20)).until(() -> runs.size() == 2 && w.inFlight() == 0);
            assertThat(runs).containsExactly(new Run(0, "", true, true), new Run(1, "lock-lost", false, false));
            assertThat(tasks.depth(spec.deadQueue())).isZero();
        }
    }

    @Test
    void aTaskCompletedByAWorkerThatDiedBeforeItsAckIsAckedWithoutASecondRun(TestBroker broker, TestQueues queues,
            @TempDir Path dir) throws Exception {
        String queue = queues.name("donemarker");
        String yaml = "queues:\n  " + queue + ":\n    tiers: [1s]\n    concurrency: 1\n    prefetch: 1\n";
        HopperConfig config = HopperConfig.parse(yaml);
        queues.track(config.requireQueue(queue));
        String namespace = "hopper-it:" + UUID.randomUUID() + ":";
        String redis = TestRedis.get().uri().toString();
        try (TestTasks tasks = new TestTasks(broker, "donemarker-it-publisher");
                WorkerProcesses workers = new WorkerProcesses(dir, yaml)) {
            tasks.declare(config);
            String id = tasks.publish(queue, "done-then-die", "{\"ms\":0,\"halt\":true}", "order-7", null);
            Process first = workers.start(broker, queue, redis, namespace);
            first.waitFor();
            assertThat(first.exitValue()).as("died at the hook, after completion and before the ack").isEqualTo(4);
            assertThat(workers.count("done")).isEqualTo(Map.of(id, 1));
            // The broker requeues the unacked delivery once it notices the connection is gone.
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(queue) == 1);

            workers.start(broker, queue, redis, namespace);
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(queue) == 0);
            assertThat(workers.count("done")).isEqualTo(Map.of(id, 1));
        }
    }

    /**
     * The first lock call of a keyed delivery goes out from the consumer's dispatch thread and is answered on
     * Lettuce's I/O thread (DeliveryExecutor#start): neither may run a handler. Every run happens on one of the
     * queue's delivery threads, every key runs one at a time, and each task runs once.
     */
    @Test
    void keyedTasksOnRedisRunOnlyOnTheQueuesDeliveryThreadsOneAtATimePerKey(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("threads")).concurrency(4).prefetch(32)
                .build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Map<String, String> threadOf = new ConcurrentHashMap<>();
        Map<String, Integer> runningByKey = new ConcurrentHashMap<>();
        List<String> overlaps = new CopyOnWriteArrayList<>();
        try (RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(
                TestRedis.get().uri()).namespace("hopper-it:" + UUID.randomUUID() + ":").build());
                TestTasks tasks = new TestTasks(broker, "threads-it-publisher");
                Worker w = worker(broker, config, store).handler("job", Job.class, (job, ctx) -> {
                    String key = ctx.key().orElseThrow();
                    if (runningByKey.merge(key, 1, Integer::sum) > 1) {
                        overlaps.add(key);
                    }
                    threadOf.merge(ctx.messageId(), Thread.currentThread().getName(), (a, b) -> a + "," + b);
                    runningByKey.merge(key, -1, Integer::sum);
                }).build()) {
            tasks.declare(config);
            w.start();
            Set<String> ids = new java.util.HashSet<>();
            for (int i = 0; i < 400; i++) {
                ids.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "K" + (i % 10), null));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> threadOf.keySet().containsAll(ids));
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 0);

            assertThat(threadOf.keySet()).isEqualTo(ids);
            assertThat(threadOf.values()).as("each ran once, on a delivery thread of its queue")
                    .allMatch(name -> name.matches("hopper-" + java.util.regex.Pattern.quote(spec.name()) + "-\\d+"));
            assertThat(overlaps).isEmpty();
        }
    }

    @Test
    void whileTheStoreIsDownNothingRunsNothingDiesAndNoAttemptIsBurnt(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("outage")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Map<String, Integer> attempts = new ConcurrentHashMap<>();
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(redis.uri())
                        .namespace("outage:").operationTimeout(Duration.ofMillis(300)).build());
                TestTasks tasks = new TestTasks(broker, "outage-it-publisher");
                Worker w = worker(broker, config, store).handler("job", Job.class,
                        (job, ctx) -> attempts.put(ctx.messageId(), ctx.attempt())).build()) {
            tasks.declare(config);
            w.start();
            String warmup = tasks.publish(spec.name(), "job", "{\"n\":0}", "K0", null);
            await().atMost(Duration.ofSeconds(30)).until(() -> attempts.containsKey(warmup));

            redis.kill();
            List<String> ids = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                ids.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "K" + i, null));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> !w.isConsuming(spec.name()));
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                    .until(() -> attempts.size() == 1 && tasks.depth(spec.deadQueue()) == 0);
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 5);

            redis.restart();
            await().atMost(Duration.ofSeconds(30)).until(() -> attempts.keySet().containsAll(ids));
            Map<String, Integer> expected = new HashMap<>();
            ids.forEach(id -> expected.put(id, 0));
            expected.put(warmup, 0);
            assertThat(attempts).isEqualTo(expected);
            assertThat(tasks.depth(spec.deadQueue())).isZero();
            assertThat(w.isConsuming(spec.name())).isTrue();
        }
    }

    @Test
    void aManualPauseOutlivesTheEndOfAStoreOutage(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("holds")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Set<String> ran = ConcurrentHashMap.newKeySet();
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(redis.uri())
                        .namespace("holds:").operationTimeout(Duration.ofMillis(300)).build());
                TestTasks tasks = new TestTasks(broker, "holds-it-publisher");
                Worker w = worker(broker, config, store).handler("job", Job.class, (job, ctx) -> ran.add(ctx.messageId()))
                        .build()) {
            tasks.declare(config);
            w.start();
            redis.kill();
            String id = tasks.publish(spec.name(), "job", "{\"n\":1}", "K", null);
            await().atMost(Duration.ofSeconds(30)).until(() -> !w.isConsuming(spec.name()));
            w.pause(spec.name(), "maintenance"); // an operator pause on top of the outage

            redis.restart();
            // The store answers again, but the operator's pause still holds the queue.
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                    .until(() -> !w.isConsuming(spec.name()) && ran.isEmpty());
            w.resume(spec.name(), "maintenance over");
            await().atMost(Duration.ofSeconds(30)).until(() -> ran.contains(id));
        }
    }
}
