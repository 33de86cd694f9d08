package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.PublishReceipt;
import dev.hopper.publisher.TaskPublisher;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coalescing on the real broker (design.md, "Coalescing"): the first trigger runs at once; 100 triggers over 3 s
 * with debounce 1 s and max-delay 2 s make at most 5 runs, the last of them after the last trigger with its payload,
 * and every trigger is either a run or counted as absorbed by one. With Redis and two worker processes, and with the
 * in-memory store in one process. Plus: a failed run retries with what it claimed, and a trigger during a run gets a
 * run of its own.
 */
@ExtendWith(TestQueues.class)
class CoalescingIT {
    private static final Duration DEBOUNCE = Duration.ofSeconds(1);
    private static final Duration MAX_DELAY = Duration.ofSeconds(2);
    private static final String KEY = "user:7";

    /** One handler start, as the sink records it. */
    record Run(String id, long startMs, long n, long coalesced, int attempt, int hops) {}

    static List<Run> runs(Path sink) throws IOException {
        List<Run> out = new ArrayList<>();
        for (String line : Files.readAllLines(sink, StandardCharsets.UTF_8)) {
            String[] p = line.split(" ");
            // The last line may be half written while a worker appends it: the next read sees it whole.
            // n < 0: a warm-up run on a key of its own.
            if (p[0].equals("run") && p.length == 7 && Long.parseLong(p[3]) >= 0) {
                out.add(new Run(p[1], Long.parseLong(p[2]), Long.parseLong(p[3]), Long.parseLong(p[4]),
                        Integer.parseInt(p[5]), Integer.parseInt(p[6])));
            }
        }
        return out;
    }

    private static String yaml(String queue) {
        return "queues:\n  " + queue + ":\n    tiers: [1s, 5s]\n    concurrency: 4\n    prefetch: 16\n"
                + "    retry: {delays: [1s], max-attempts: 3}\n";
    }

    private static TaskPublisher publisher(TestBroker broker, HopperConfig config, CoordinationStore store) {
        return TaskPublisher.builder()
                .broker(BrokerConfig.builder(broker.uri()).connectionName("coalesce-it-publisher").build())
                .queues(config.queues().values()).coalescingStore(store).build();
    }

    private static PublishReceipt trigger(TaskPublisher publisher, String queue, String json) {
        return publisher.publish(publisher.newTask().queue(queue).type("digest").key(KEY).jsonPayload(json)
                .coalesce(DEBOUNCE, MAX_DELAY).build());
    }

    /**
     * Warms the publisher up (its store connects on the first call, which takes seconds in a busy JVM): a trigger
     * for a queue that does not exist reaches the store and then fails as unroutable.
     */
    private static void trigger(TaskPublisher publisher, String missingQueue, String json, boolean warmUp) {
        try {
            trigger(publisher, missingQueue, json);
        } catch (dev.hopper.publisher.PublishException e) {
            assertThat(e.reason()).isEqualTo(dev.hopper.publisher.PublishException.Reason.UNROUTABLE);
        }
    }

    /**
     * The acceptance scenario against whatever workers are consuming {@code queue}: one trigger that runs at once,
     * then 100 over 3 s.
     */
    private static void hundredTriggersOverThreeSeconds(TaskPublisher publisher, String queue, Path sink)
            throws Exception {
        trigger(publisher, queue + "-warm-up-is-not-a-queue", "{}", true);
        // Warm the workers up too (a cold JVM's first delivery takes hundreds of ms of class loading): runs on keys
        // of their own, spread over the consumers.
        for (int i = 0; i < 6; i++) {
            publisher.publish(publisher.newTask().queue(queue).type("digest").key("warm-up-" + i)
                    .jsonPayload("{\"n\":-1}").coalesce(DEBOUNCE, MAX_DELAY).build());
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.readAllLines(sink).stream()
                .filter(l -> l.startsWith("run ") && l.split(" ").length == 7 && l.split(" ")[3].equals("-1"))
                .count() == 6);
        long firstAt = System.currentTimeMillis();
        PublishReceipt first = trigger(publisher, queue, "{\"n\":1}");
        assertThat(first.absorbed()).isFalse();
        assertThat(first.notBefore()).as("the first trigger is never delayed").isNull();
        await().atMost(Duration.ofSeconds(30)).until(() -> runs(sink).size() == 1);
        Run firstRun = runs(sink).get(0);
        assertThat(firstRun.n()).isEqualTo(1);
        System.out.println("CoalescingIT: first trigger ran " + (firstRun.startMs() - firstAt) + " ms after publish ("
                + (firstRun.startMs() - first.confirmedAt().toEpochMilli()) + " ms after its confirm, " + firstRun.hops()
                + " hops)");
        assertThat(firstRun.startMs() - firstAt).as("the first trigger runs at once").isLessThan(1_000);

        int publishes = 1;
        int absorbedReceipts = 0;
        long start = System.nanoTime();
        long lastPublishAt = 0;
        for (int i = 0; i < 100; i++) {
            long due = start + Duration.ofMillis(30L * i).toNanos();
            while (System.nanoTime() < due) {
                LockSupport.parkNanos(due - System.nanoTime());
            }
            lastPublishAt = System.currentTimeMillis();
            if (trigger(publisher, queue, "{\"n\":" + (i + 2) + "}").absorbed()) {
                absorbedReceipts++;
            }
            publishes++;
        }
        long lastPublish = lastPublishAt;
        await().atMost(Duration.ofSeconds(30)).until(() -> runs(sink).stream().anyMatch(r -> r.n() == 101));
        // Nothing more may come: wait out one more max-delay and a tier, then count.
        Thread.sleep(MAX_DELAY.plusSeconds(2).toMillis());

        List<Run> runs = runs(sink);
        List<Run> afterFirst = runs.subList(1, runs.size());
        long absorbed = runs.stream().mapToLong(Run::coalesced).sum();
        System.out.println("CoalescingIT: " + publishes + " publishes -> " + runs.size() + " runs " + runs
                + "; absorbed " + absorbed + " (receipts said " + absorbedReceipts + ")");
        assertThat(afterFirst).as("runs for the 100 triggers").hasSizeBetween(1, 5);
        Run last = runs.get(runs.size() - 1);
        assertThat(last.n()).as("the last run has the last payload").isEqualTo(101);
        assertThat(last.startMs()).as("the last run starts after the last publish").isGreaterThanOrEqualTo(lastPublish);
        assertThat(absorbed + runs.size()).as("absorbed + runs = publishes").isEqualTo(publishes);
        assertThat(absorbed).isEqualTo(absorbedReceipts);
        assertThat(runs).allSatisfy(r -> assertThat(r.attempt()).isZero());
    }

    @Test
    void twoWorkerProcessesOnRedisCoalesceAHundredTriggersIntoAFewRuns(TestBroker broker, TestQueues queues,
            @TempDir Path dir) throws Exception {
        String queue = queues.name("coalredis");
        HopperConfig config = HopperConfig.parse(yaml(queue));
        queues.track(config.requireQueue(queue));
        Path yaml = dir.resolve("hopper.yml");
        Files.writeString(yaml, yaml(queue));
        Path sink = dir.resolve("sink.log");
        Files.writeString(sink, "");
        String namespace = "hopper-test:coalesce:" + UUID.randomUUID() + ":";
        List<Process> workers = new ArrayList<>();
        try (TestTasks admin = new TestTasks(broker, "coalesce-it-admin");
                RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(
                        TestRedis.get().uri()).namespace(namespace).build());
                TaskPublisher publisher = publisher(broker, config, store)) {
            admin.declare(config);
            for (int i = 0; i < 2; i++) {
                workers.add(DelayedTaskIT.startWorker(broker, yaml, queue, sink, dir, i,
                        TestRedis.get().uri().toString(), namespace));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readAllLines(sink).stream()
                    .filter(l -> l.startsWith("ready ")).count() == 2);

            hundredTriggersOverThreeSeconds(publisher, queue, sink);

            assertThat(admin.depth(config.requireQueue(queue).deadQueue())).isZero();
        } finally {
            for (int i = 0; i < workers.size(); i++) {
                System.out.println("---- worker " + i + " ----\n" + Files.readString(dir.resolve("worker-" + i
                        + ".out")));
            }
            workers.forEach(Process::destroyForcibly);
            deleteNamespace(namespace);
        }
    }

    @Test
    void oneProcessWithTheInMemoryStoreCoalescesTheSame(TestBroker broker, TestQueues queues, @TempDir Path dir)
            throws Exception {
        String queue = queues.name("coalmem");
        HopperConfig config = HopperConfig.parse(yaml(queue));
        queues.track(config.requireQueue(queue));
        Path sink = dir.resolve("sink.log");
        Files.writeString(sink, "");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TestTasks admin = new TestTasks(broker, "coalmem-it-admin");
                InMemoryCoordinationStore store = new InMemoryCoordinationStore();
                TaskPublisher publisher = publisher(broker, config, store);
                Worker worker = ScheduledWorkerMain.handlers(Worker.builder().broker(BrokerConfig.builder(
                        broker.uri()).connectionName("coalmem-it-worker").build()).config(config)
                        .coordinationStore(store).meterRegistry(registry), sink).build()) {
            admin.declare(config);
            worker.start();

            hundredTriggersOverThreeSeconds(publisher, queue, sink);

            double absorbedMeter = registry.get(WorkerMetrics.ABSORBED).counters().stream()
                    .mapToDouble(c -> c.count()).sum();
            assertThat(absorbedMeter).isEqualTo(runs(sink).stream().mapToLong(Run::coalesced).sum());
        }
    }

    @Test
    void aFailedRunRetriesWithWhatItClaimedAndATriggerDuringItGetsItsOwnRun(TestBroker broker, TestQueues queues,
            @TempDir Path dir) throws Exception {
        String queue = queues.name("coalfail");
        HopperConfig config = HopperConfig.parse(yaml(queue));
        QueueSpec spec = queues.track(config.requireQueue(queue));
        Path sink = dir.resolve("sink.log");
        Files.writeString(sink, "");
        try (TestTasks admin = new TestTasks(broker, "coalfail-it-admin");
                InMemoryCoordinationStore store = new InMemoryCoordinationStore();
                TaskPublisher publisher = publisher(broker, config, store);
                Worker worker = ScheduledWorkerMain.handlers(Worker.builder().broker(BrokerConfig.builder(
                        broker.uri()).connectionName("coalfail-it-worker").build()).config(config)
                        .coordinationStore(store), sink).build()) {
            admin.declare(config);
            worker.start();

            trigger(publisher, queue, "{\"n\":1,\"fail\":true,\"ms\":1500}");
            await().atMost(Duration.ofSeconds(30)).until(() -> runs(sink).size() == 1);
            long duringRun = System.currentTimeMillis();
            PublishReceipt during = trigger(publisher, queue, "{\"n\":2}");
            assertThat(during.absorbed()).as("a run under way absorbs nothing: a new pending run").isFalse();
            assertThat(during.notBefore()).as("due a debounce after the running one started").isNotNull();

            await().atMost(Duration.ofSeconds(30)).until(() -> runs(sink).size() >= 3);
            // Nothing more may come: the count must hold at three for two seconds.
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> runs(sink).size() == 3);
            List<Run> runs = runs(sink);
            assertThat(runs).extracting(Run::n, Run::attempt).containsExactlyInAnyOrder(
                    org.assertj.core.groups.Tuple.tuple(1L, 0), org.assertj.core.groups.Tuple.tuple(1L, 1),
                    org.assertj.core.groups.Tuple.tuple(2L, 0));
            Run retry = runs.stream().filter(r -> r.attempt() == 1).findFirst().orElseThrow();
            assertThat(retry.coalesced()).as("the retry carries its claimed count").isZero();
            Run own = runs.stream().filter(r -> r.n() == 2).findFirst().orElseThrow();
            assertThat(own.startMs()).isGreaterThanOrEqualTo(duringRun);
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.depth(queue) == 0);
            assertThat(admin.depth(spec.deadQueue())).isZero();
        }
    }

    private static void deleteNamespace(String namespace) {
        RedisClient client = RedisClient.create(TestRedis.get().uri().toString());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            List<String> keys = c.sync().keys(namespace + "*");
            if (!keys.isEmpty()) {
                c.sync().del(keys.toArray(new String[0]));
            }
        } finally {
            client.shutdown();
        }
    }
}
