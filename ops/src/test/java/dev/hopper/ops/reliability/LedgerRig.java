package dev.hopper.ops.reliability;

import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.hopper.ops.worker.HopperJar;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.PublishException;
import dev.hopper.publisher.Task;
import dev.hopper.publisher.TaskPublisher;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The moving parts of a ledger row: one work queue on a broker (shared or throwaway), real {@code hopper worker}
 * JVMs with {@link RecordingProvider}, a publisher that sorts tasks into confirmed and unknown, and a reader of
 * the dead queue. {@link #close()} kills every worker it started (by its own Process handle) and, on the shared
 * broker, the caller's TestQueues deletes the queues.
 */
final class LedgerRig implements AutoCloseable {
    static final String TYPE = "ledger.task";

    /** The queue settings of every row unless it says otherwise (docs/reliability.md). */
    static final String QUEUE_YAML = """
            tiers: [1s]
            retry: {delays: [1s], max-attempts: 3}
            poison-after: 2
            delivery-limit: 10
            concurrency: 4
            prefetch: 8
            handler-timeout: 30s
            """;

    final Path dir;
    final URI broker;
    final @Nullable URI redis;
    final QueueSpec spec;
    final Path ledgerFile;
    final Path config;
    private final List<Process> workers = new ArrayList<>();
    private final Map<String, String> publishedKeys = new java.util.HashMap<>();
    private final Map<String, Long> publishedRevisions = new java.util.HashMap<>();
    private int started;

    LedgerRig(Path parent, URI broker, @Nullable URI redis, QueueSpec spec, String queueYaml) throws IOException {
        // Kept under target/reliability: the worker logs of a failed row are the first thing to read.
        this.dir = Files.createDirectories(Ledger.DIR.resolve("runs").resolve(spec.name()));
        this.broker = broker;
        this.redis = redis;
        this.spec = spec;
        this.ledgerFile = dir.resolve("ledger-" + spec.name() + ".log");
        this.config = dir.resolve("hopper-" + spec.name() + ".yml");
        Files.deleteIfExists(ledgerFile); // a recording left by an earlier run of this row is not this run's
        Files.writeString(config, "queues:\n  " + spec.name() + ":\n" + queueYaml.indent(4));
        try (Connection c = connect("ledger-declare")) {
            new Topology(HopperConfig.load(config)).declare(c);
        }
    }

    /** The queue's config as the workers read it (for TestQueues to delete its queues). */
    QueueSpec configured() {
        return HopperConfig.load(config).requireQueue(spec.name());
    }

    Connection connect(String name) {
        ConnectionFactory f = new ConnectionFactory();
        try {
            f.setUri(broker);
            f.setVirtualHost("/");
            f.setConnectionTimeout(5000);
            return f.newConnection(name);
        } catch (Exception e) {
            throw new IllegalStateException("cannot connect to " + broker.getHost() + ":" + broker.getPort(), e);
        }
    }

    /** Starts one {@code hopper worker} JVM; {@code extra} are more worker options. */
    Process startWorker(String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", HopperJar.jar().toString(), "--uri", broker.toString()));
        if (redis != null) {
            cmd.addAll(List.of("--redis", redis.toString()));
        }
        cmd.addAll(List.of("--config", config.toString(), "worker", "--queue", spec.name(), "--classpath",
                Path.of("target", "test-classes").toAbsolutePath().toString(), "--handler",
                RecordingProvider.class.getName()));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("RABBITMQ_URI");
        pb.environment().put("HOPPER_LEDGER", ledgerFile.toString());
        String name = "worker-" + spec.name() + "-" + (++started);
        pb.redirectOutput(dir.resolve(name + ".out").toFile()).redirectError(dir.resolve(name + ".err").toFile());
        Process p = pb.start();
        workers.add(p);
        return p;
    }

    /**
     * Waits until every live worker consumes and, with Redis, has its store connection, so that a row's timing
     * starts with workers that can run keyed tasks at once.
     */
    void awaitWorkersReady(Duration max) {
        await("workers consuming" + (redis == null ? "" : " and connected to Redis")).atMost(max)
                .pollInterval(Duration.ofMillis(200)).until(() -> {
                    for (int i = 1; i <= started; i++) {
                        Path err = dir.resolve("worker-" + spec.name() + "-" + i + ".err");
                        String log = Files.exists(err) ? Files.readString(err) : "";
                        if (workers.get(i - 1).isAlive() && (!log.contains("consuming queue=")
                                || redis != null && !log.contains("coordination store connected"))) {
                            return false;
                        }
                    }
                    return true;
                });
    }

    List<Process> workers() {
        return workers;
    }

    int workersStarted() {
        return started;
    }

    /** A payload that makes the recording handler take {@code ms}. */
    static Map<String, Object> sleep(int ms) {
        return Map.of("sleepMs", ms);
    }

    /** Publishes the tasks with confirms; fills the ledger's confirmed and unknown sets. */
    void publish(Ledger ledger, int n, Function<Integer, Map<String, Object>> payload,
            Function<Integer, Boolean> healthy, @Nullable Function<Integer, String> key) {
        publish(ledger, n, payload, healthy, key, i -> 1L);
    }

    /** As {@link #publish(Ledger, int, Function, Function, Function)}, keyed tasks with the given revisions. */
    void publish(Ledger ledger, int n, Function<Integer, Map<String, Object>> payload,
            Function<Integer, Boolean> healthy, @Nullable Function<Integer, String> key,
            Function<Integer, Long> revision) {
        BrokerConfig cfg = BrokerConfig.builder(broker).connectionName("ledger-publisher").build();
        try (TaskPublisher publisher = TaskPublisher.builder().broker(cfg)
                .publishTimeout(Duration.ofSeconds(120)).confirmTimeout(Duration.ofSeconds(60)).build()) {
            List<Task> tasks = new ArrayList<>();
            List<CompletableFuture<?>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Task.Builder b = publisher.newTask().queue(spec.name()).type(TYPE).payload(payload.apply(i));
                if (key != null) {
                    b.key(key.apply(i)).revision(revision.apply(i));
                }
                Task t = b.build();
                if (key != null) {
                    publishedKeys.put(t.messageId(), t.key());
                    publishedRevisions.put(t.messageId(), t.revision());
                }
                tasks.add(t);
                futures.add(publisher.publishAsync(t));
            }
            for (int i = 0; i < n; i++) {
                try {
                    futures.get(i).get(180, TimeUnit.SECONDS);
                    ledger.confirmed(tasks.get(i).messageId(), healthy.apply(i));
                } catch (Exception e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof PublishException pe && !pe.mayHaveArrived()) {
                        continue; // certainly not sent: not part of the ledger
                    }
                    ledger.unknown(tasks.get(i).messageId());
                }
            }
        }
    }

    /** The key of every keyed task published, by message id. */
    Map<String, String> publishedKeys() {
        return Map.copyOf(publishedKeys);
    }

    /** The revision of every keyed task published, by message id. */
    Map<String, Long> publishedRevisions() {
        return Map.copyOf(publishedRevisions);
    }

    /** A fault to inject; what it returns is noted in the ledger (e.g. how many connections it closed). */
    @FunctionalInterface
    interface Fault {
        Object inject() throws Exception;
    }

    /**
     * The common row: one more worker, {@code tasks} tasks of {@code sleepMs} each (keyed when {@code key} is
     * given), {@code fault} after {@code after} completions, then wait until all is settled and collect.
     */
    void runWithFault(Ledger ledger, int tasks, int sleepMs, @Nullable Function<Integer, String> key, int after,
            String noteKey, Fault fault) throws Exception {
        startWorker();
        publish(ledger, tasks, i -> Map.of("sleepMs", sleepMs), i -> true, key);
        await("%d completions".formatted(after)).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
                .until(() -> ledger.completions(ledgerFile).completedIds().size() >= after);
        long at = System.currentTimeMillis();
        ledger.note(noteKey, fault.inject());
        ledger.faultWindow(at, System.currentTimeMillis());
        awaitSettled(ledger, 0, Duration.ofSeconds(240), () -> {});
        stopAndCollect(ledger);
    }

    /** Messages ready in a queue. */
    long depth(String queue) {
        try (Connection c = connect("ledger-depth"); Channel ch = c.createChannel()) {
            return ch.queueDeclarePassive(queue).getMessageCount();
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * Waits (up to {@code max}) until every confirmed task completed or sits in the dead queue, running
     * {@code supervise} on each poll (e.g. restart crashed workers).
     */
    void awaitSettled(Ledger ledger, int expectedDead, Duration max, Runnable supervise) {
        await("every confirmed task completed or dead").atMost(max).pollInterval(Duration.ofMillis(500)).until(() -> {
            supervise.run();
            ledger.completions(ledgerFile);
            long dead = depth(spec.deadQueue());
            return dead >= expectedDead && ledger.lost().size() <= dead && depth(spec.name()) == 0;
        });
        // Deliveries still unacked on a worker are settled when it stops gracefully.
    }

    /**
     * Waits (up to {@code max}) until nothing is left to run: the work queue and its retry tiers are empty and no
     * live worker is inside a handler, for two seconds on end. For rows where some tasks end unrecorded
     * (superseded), so that {@link #awaitSettled} cannot count them.
     */
    void awaitQuiet(Ledger ledger, Duration max) {
        await("queues empty and no handler running").during(Duration.ofSeconds(2)).atMost(max)
                .pollInterval(Duration.ofMillis(250)).until(() -> {
                    QueueSpec q = configured(); // its tiers, not the defaults
                    if (depth(q.name()) != 0 || q.tiers().stream().anyMatch(t -> depth(q.retryQueue(t)) != 0)) {
                        return false;
                    }
                    java.util.Set<Long> live = new java.util.HashSet<>();
                    workers.stream().filter(Process::isAlive).forEach(p -> live.add(p.pid()));
                    return ledger.completions(ledgerFile).spans().stream()
                            .noneMatch(s -> s.endMs() < 0 && live.contains(s.pid()));
                });
    }

    /** SIGTERM to every live worker, waiting for each (bounded); then reads the dead queue into the ledger. */
    void stopAndCollect(Ledger ledger) throws Exception {
        for (Process p : workers) {
            if (p.isAlive()) {
                p.destroy();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
        ledger.completions(ledgerFile);
        try (Connection c = connect("ledger-dead"); Channel ch = c.createChannel()) {
            GetResponse r;
            while ((r = ch.basicGet(spec.deadQueue(), true)) != null) {
                String reason = HeaderValues.text(r.getProps().getHeaders(), Headers.DEAD_REASON).orElse("?");
                ledger.dead(String.valueOf(r.getProps().getMessageId()), reason);
            }
        }
    }

    /**
     * Puts {@code n} dead letters of type ledger.task ({@code payload}, reason exhausted, {@code extraHeaders} on
     * top) straight into the dead queue, confirmed; returns their ids in order. They count as confirmed, not
     * healthy: staying dead is not a false dead letter.
     */
    List<String> deadLetters(Ledger ledger, int n, String payload, Map<String, Object> extraHeaders)
            throws Exception {
        List<String> ids = new ArrayList<>();
        try (Connection c = connect("ledger-dead-letters"); Channel ch = c.createChannel()) {
            ch.confirmSelect();
            for (int i = 0; i < n; i++) {
                String id = java.util.UUID.randomUUID().toString();
                byte[] body = payload.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                com.rabbitmq.client.AMQP.BasicProperties props = dev.hopper.topology.EnvelopeCodec.properties(
                        dev.hopper.topology.TaskEnvelope.fresh(id, TYPE, null, null, java.time.Instant.now(), body));
                Map<String, Object> h = new java.util.HashMap<>(props.getHeaders());
                h.put(Headers.DEAD_REASON, "exhausted");
                h.put(Headers.ORIGIN_QUEUE, spec.name());
                h.putAll(extraHeaders);
                ch.basicPublish(dev.hopper.topology.QueueNames.DEAD_EXCHANGE, spec.name(), true,
                        props.builder().headers(h).build(), body);
                ledger.confirmed(id, false);
                ids.add(id);
            }
            ch.waitForConfirmsOrDie(60_000);
        }
        return ids;
    }

    /** Starts {@code hopper dlq replay --queue Q extra...} as a process of its own, output to {@code log}. */
    Process replay(String log, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", HopperJar.jar().toString(), "--uri", broker.toString(), "dlq", "replay", "--queue",
                spec.name()));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(log).toFile());
        pb.environment().remove("RABBITMQ_URI");
        return pb.start();
    }

    @Override
    public void close() {
        workers.forEach(Process::destroyForcibly);
    }
}
