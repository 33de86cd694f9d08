package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.PublishReceipt;
import dev.hopper.publisher.TaskPublisher;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayRoute;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delayed tasks on the real broker (design.md, "Delayed tasks"): they wait in the delay tiers, never start before
 * their not-before time, start within one smallest tier (plus broker latency) after it, survive a worker's SIGKILL,
 * and a hostile not-before header is dead-lettered, never a crash or an endless hop loop.
 */
@ExtendWith(TestQueues.class)
class DelayedTaskIT {
    /** The acceptance bound: one smallest tier (1 s) plus 0.5 s of broker and worker latency. */
    private static final long BOUND_MS = 1_500;

    private static HopperConfig config(TestQueues queues, String hint) {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name(hint))
                .tiers(List.of(dev.hopper.topology.DelayTier.parse("1s"), dev.hopper.topology.DelayTier.parse("5s")))
                // Enough handler threads that hops (each a confirmed publish) never queue behind each other.
                .concurrency(16).prefetch(128).build());
        return HopperConfig.of(List.of(spec));
    }

    /** Publishes 200 tasks with random delays of 0 to 20 s; returns message id to not-before. */
    private static Map<String, Instant> publishRandomDelays(TestBroker broker, HopperConfig config, String queue) {
        Map<String, Instant> expected = new LinkedHashMap<>();
        try (TaskPublisher publisher = TaskPublisher.builder()
                .broker(BrokerConfig.builder(broker.uri()).connectionName("delay-it-publisher").build())
                .queues(config.queues().values()).build()) {
            List<dev.hopper.publisher.Task> tasks = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                tasks.add(publisher.newTask().queue(queue).type("at").payload(Map.of("i", i))
                        .delay(Duration.ofMillis(ThreadLocalRandom.current().nextLong(0, 20_001))).build());
            }
            Instant before = Instant.now();
            List<PublishReceipt> receipts = publisher.publishAll(tasks);
            for (int i = 0; i < receipts.size(); i++) {
                PublishReceipt r = receipts.get(i);
                // A delay of 0 (or one already over) runs at once: its not-before is its publish time.
                expected.put(r.messageId(), r.notBefore() != null ? r.notBefore() : before);
            }
        }
        return expected;
    }

    private record Start(long startMs, long notBeforeMs) {}

    private static Map<String, List<Start>> starts(Path sink) throws IOException {
        Map<String, List<Start>> out = new HashMap<>();
        for (String line : Files.readAllLines(sink, StandardCharsets.UTF_8)) {
            String[] p = line.split(" ");
            // The last line may be half written while a worker appends it: the next read sees it whole.
            if (p[0].equals("start") && p.length == 4) {
                out.computeIfAbsent(p[1], k -> new ArrayList<>())
                        .add(new Start(Long.parseLong(p[2]), Long.parseLong(p[3])));
            }
        }
        return out;
    }

    /** Lateness of each task's first start after its not-before, sorted; fails on any early start. */
    private static List<Long> latenessChecked(Map<String, Instant> expected, Map<String, List<Start>> starts) {
        List<Long> lateness = new ArrayList<>();
        for (Map.Entry<String, Instant> e : expected.entrySet()) {
            List<Start> s = starts.get(e.getKey());
            assertThat(s).as("task %s ran", e.getKey()).isNotEmpty();
            for (Start one : s) {
                assertThat(one.startMs()).as("task %s never starts before its not-before %s", e.getKey(), e.getValue())
                        .isGreaterThanOrEqualTo(e.getValue().toEpochMilli());
            }
            lateness.add(s.get(0).startMs() - e.getValue().toEpochMilli());
        }
        lateness.sort(Long::compare);
        return lateness;
    }

    private static String distribution(List<Long> sorted) {
        return String.format("n=%d min=%dms p50=%dms p90=%dms p99=%dms max=%dms", sorted.size(), sorted.get(0),
                sorted.get(sorted.size() / 2), sorted.get(sorted.size() * 9 / 10), sorted.get(sorted.size() * 99 / 100),
                sorted.get(sorted.size() - 1));
    }

    @Test
    void twoHundredRandomDelaysNeverStartEarlyAndStartWithinOneSmallestTierAfter(TestBroker broker,
            TestQueues queues, @TempDir Path dir) throws Exception {
        HopperConfig config = config(queues, "delays");
        String queue = config.queues().keySet().iterator().next();
        Path sink = dir.resolve("sink.log");
        Files.writeString(sink, "");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Worker.Builder b = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("delay-it-worker")
                .build()).config(config).meterRegistry(registry);
        try (Worker worker = ScheduledWorkerMain.handlers(b, sink).build()) {
            try (TestTasks admin = new TestTasks(broker, "delay-it-admin")) {
                admin.declare(config);
            }
            worker.start();
            Map<String, Instant> expected = publishRandomDelays(broker, config, queue);

            await().atMost(Duration.ofSeconds(60)).until(() -> starts(sink).keySet().containsAll(expected.keySet()));

            List<Long> lateness = latenessChecked(expected, starts(sink));
            System.out.println("DelayedTaskIT lateness after not-before, tiers [1s, 5s]: " + distribution(lateness));
            assertThat(lateness.get(lateness.size() - 1)).as("latest start after its not-before (ms)")
                    .isLessThanOrEqualTo(BOUND_MS);
            assertThat(registry.get(WorkerMetrics.PROCESSED).tag("outcome", "delayed").counters().stream()
                    .mapToDouble(c -> c.count()).sum()).as("hops counted as outcome delayed").isPositive();
            // A run is counted when it is settled, just after the handler wrote its line.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(registry.get(WorkerMetrics.LATENESS)
                    .timers().stream().mapToLong(t -> t.count()).sum()).isEqualTo(200));
        }
    }

    @Test
    void aWorkerKilledAndRestartedMidRunLosesNoDelayedTask(TestBroker broker, TestQueues queues, @TempDir Path dir)
            throws Exception {
        HopperConfig config = config(queues, "delaykill");
        String queue = config.queues().keySet().iterator().next();
        Path yaml = dir.resolve("hopper.yml");
        Files.writeString(yaml, "queues:\n  " + queue + ":\n    tiers: [1s, 5s]\n    concurrency: 16\n"
                + "    prefetch: 128\n");
        Path sink = dir.resolve("sink.log");
        Files.writeString(sink, "");
        try (TestTasks admin = new TestTasks(broker, "delaykill-it-admin")) {
            admin.declare(config);
            Process first = startWorker(broker, yaml, queue, sink, dir, 0);
            List<Process> started = new ArrayList<>(List.of(first));
            try {
                Map<String, Instant> expected = publishRandomDelays(broker, config, queue);
                // Kill it mid-run: some tasks started, most still waiting in the tiers or in flight.
                await().atMost(Duration.ofSeconds(60)).until(() -> starts(sink).size() >= 40);
                first.destroyForcibly();
                first.waitFor();
                long killedAt = System.currentTimeMillis();
                int beforeKill = starts(sink).size();
                assertThat(beforeKill).as("killed mid-run").isLessThan(200);
                started.add(startWorker(broker, yaml, queue, sink, dir, 1));

                await().atMost(Duration.ofSeconds(90)).until(() -> starts(sink).keySet().containsAll(
                        expected.keySet()));

                List<Long> lateness = latenessChecked(expected, starts(sink));
                long readyAt = Files.readAllLines(sink).stream().filter(l -> l.startsWith("ready "))
                        .mapToLong(l -> Long.parseLong(l.split(" ")[2])).max().orElseThrow();
                System.out.println("DelayedTaskIT after SIGKILL at " + beforeKill + " starts and a restart (new "
                        + "worker consuming " + (readyAt - killedAt) + " ms after the kill): " + distribution(lateness));
                await().atMost(Duration.ofSeconds(30)).until(() -> admin.depth(queue) == 0);
                assertThat(admin.depth(config.requireQueue(queue).deadQueue())).isZero();
            } finally {
                started.forEach(Process::destroyForcibly);
            }
        }
    }

    @Test
    void hostileNotBeforeHeadersAreDeadLetteredAndTheWorkerCarriesOn(TestBroker broker, TestQueues queues,
            @TempDir Path dir) throws Exception {
        HopperConfig config = config(queues, "hostile");
        QueueSpec spec = config.queues().values().iterator().next();
        Path sink = dir.resolve("sink.log");
        Files.writeString(sink, "");
        Worker.Builder b = Worker.builder().broker(BrokerConfig.builder(broker.uri())
                .connectionName("hostile-it-worker").build()).config(config);
        try (TestTasks tasks = new TestTasks(broker, "hostile-it-publisher");
                Worker worker = ScheduledWorkerMain.handlers(b, sink).build()) {
            tasks.declare(config);
            worker.start();
            Map<String, Object> hostile = new LinkedHashMap<>();
            hostile.put("negative", -5L);
            hostile.put("a string", "tomorrow at noon");
            hostile.put("year 300000", 9_400_000_000_000_000L);
            hostile.put("a float", 1.7e12);
            List<String> hostileIds = new ArrayList<>();
            for (Object value : hostile.values()) {
                hostileIds.add(publishWithHeaders(tasks, spec.name(), Map.of(Headers.NOT_BEFORE, value)));
            }
            // Still early after the hop cap: dead as hop-limit at its next arrival, not hopping for 1000 years.
            String capped = publishWithHeaders(tasks, spec.name(), Map.of(Headers.NOT_BEFORE,
                    Instant.now().plus(Duration.ofDays(365_000)).toEpochMilli(), Headers.HOPS, DelayRoute.MAX_HOPS));
            String good = publishWithHeaders(tasks, spec.name(), Map.of());

            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.deadQueue()) == hostileIds.size() + 1);
            await().atMost(Duration.ofSeconds(30)).until(() -> starts(sink).containsKey(good));
            Map<String, String> reasons = new HashMap<>();
            for (GetResponse r : tasks.drain(spec.deadQueue())) {
                reasons.put(r.getProps().getMessageId(),
                        HeaderValues.text(r.getProps().getHeaders(), Headers.DEAD_REASON).orElseThrow());
            }
            for (String id : hostileIds) {
                assertThat(reasons).containsEntry(id, DeadReason.MALFORMED.wireValue());
            }
            assertThat(reasons).containsEntry(capped, DeadReason.HOP_LIMIT.wireValue());
            assertThat(starts(sink)).doesNotContainKeys(hostileIds.toArray(new String[0])).doesNotContainKey(capped);
            assertThat(worker.isHealthy()).isTrue();
        }
    }

    private static String publishWithHeaders(TestTasks tasks, String queue, Map<String, Object> extra) {
        String id = UUID.randomUUID().toString();
        TaskEnvelope e = TaskEnvelope.fresh(id, "at", null, null, Instant.now(), "{}".getBytes(StandardCharsets.UTF_8));
        AMQP.BasicProperties base = EnvelopeCodec.properties(e);
        Map<String, Object> headers = new HashMap<>(base.getHeaders());
        headers.putAll(extra);
        tasks.publishRaw(queue, base.builder().headers(headers).build(), e.body());
        return id;
    }

    static Process startWorker(TestBroker broker, Path yaml, String queue, Path sink, Path dir, int n,
            String... redis) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                ScheduledWorkerMain.class.getName(), broker.uri().toString(), yaml.toString(), queue,
                sink.toString()));
        cmd.addAll(List.of(redis));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(new File(dir.toFile(), "worker-" + n + ".out"));
        return pb.start();
    }
}
