package dev.hopper.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import dev.hopper.ops.publish.UnconfirmedTasks;
import dev.hopper.publisher.BatchResult;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.PublishException;
import dev.hopper.publisher.Task;
import dev.hopper.publisher.TaskPublisher;
import dev.hopper.topology.testing.ThrowawayRedis;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hopper on a three-node cluster losing a node under load (issue 14), run by {@code mvn -Pcluster}: two
 * publishers (in this JVM, {@link TaskPublisher} with confirms over the multi-node URI) and three worker JVMs
 * ({@code hopper worker --dedupe} with {@link LedgerHandler}, locks and done-markers in a throwaway Redis) work
 * through {@code cluster.tasks} tasks while one fault hits the cluster: the node leading the work queue is killed
 * with SIGKILL and restarted after {@code cluster.outage-seconds}, or stopped with {@code rabbitmqctl stop_app}
 * and started again, or the network between one worker and its node is cut by a {@link TcpProxy} and healed.
 * Publishes the broker did not confirm are written with {@link UnconfirmedTasks} and sent again by
 * {@code hopper publish --resume}; the ledger then must show lost = 0, unexpected = 0 and every resent task run
 * once. Throughput recovery is printed, never asserted. Tables go to stdout and {@code target/cluster-ledger.md}.
 *
 * <p>Settings (system properties): {@code cluster.tasks} (20000), {@code cluster.rate} per publisher per second
 * (100), {@code cluster.handler-ms} (2), {@code cluster.outage-seconds} (20), {@code cluster.faults}
 * (kill,stop-app,cut).
 */
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class NodeLossClusterIT {
    static final int TASKS = Integer.getInteger("cluster.tasks", 20_000);
    static final int RATE = Integer.getInteger("cluster.rate", 100);
    static final int HANDLER_MS = Integer.getInteger("cluster.handler-ms", 2);
    static final int OUTAGE_SECONDS = Integer.getInteger("cluster.outage-seconds", 20);
    static final int WORKERS = 3;
    static final int CONCURRENCY = 4;
    static final int PREFETCH = 16;
    static final Path REPORT = Path.of("target/cluster-ledger.md");

    static ClusterNodes cluster;
    static ThrowawayRedis redis;
    static final List<String> rows = Collections.synchronizedList(new ArrayList<>());

    static Stream<String> faults() {
        return Arrays.stream(System.getProperty("cluster.faults", "kill,stop-app,cut").split(","))
                .map(String::strip).filter(s -> !s.isEmpty());
    }

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ClusterNodes.start();
        redis = ThrowawayRedis.start();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        try {
            if (redis != null) {
                redis.close();
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
        String table = "Ran " + TASKS + " tasks per run, " + RATE + "/s per publisher x 2, handler " + HANDLER_MS
                + " ms, " + WORKERS + " workers x concurrency " + CONCURRENCY + " (prefetch " + PREFETCH
                + "), outage " + OUTAGE_SECONDS + " s\n\n" + ClusterLedger.header() + String.join("", rows);
        System.out.println(table);
        Files.writeString(REPORT, table, StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    void nothingIsLostWhenTheClusterLosesANode(String fault) throws Exception {
        assertThat(fault).isIn("kill", "stop-app", "cut");
        String queue = "cluster-" + fault + "-" + UUID.randomUUID().toString().substring(0, 8);
        Path dir = Files.createTempDirectory("hopper-ledger-" + fault);
        URI clusterUri = BrokerConfig.parseUri(cluster.uri());
        ClusterLedger ledger = new ClusterLedger();
        List<Process> workers = new ArrayList<>();
        List<Path> ledgerFiles = new ArrayList<>();
        try (BrokerConnection admin = BrokerConnection.open(BrokerConfig.builder(clusterUri)
                        .connectionName("cluster-it-admin").build());
                TcpProxy proxy = new TcpProxy(new InetSocketAddress("127.0.0.1", ClusterNodes.FIRST_AMQP_PORT))) {
            // Three workers; the third reaches node 1 only, through the proxy the "cut" run cuts.
            for (int i = 1; i <= WORKERS; i++) {
                String uri = i == WORKERS ? "amqp://guest:guest@127.0.0.1:" + proxy.port() + "/" : cluster.uri();
                Path ledgerFile = dir.resolve("worker-" + i + ".ledger");
                ledgerFiles.add(ledgerFile);
                workers.add(HopperJar.builder(Map.of("HOPPER_LEDGER_FILE", ledgerFile.toString()),
                                "--uri", uri, "--redis", redis.uri().toString(), "worker", "--queue", queue,
                                "--concurrency", String.valueOf(CONCURRENCY), "--prefetch", String.valueOf(PREFETCH),
                                "--dedupe", "--drain-timeout", "10s", "--classpath", "target/test-classes",
                                "--handler", LedgerHandler.class.getName())
                        .redirectOutput(dir.resolve("worker-" + i + ".out").toFile())
                        .redirectErrorStream(true).start());
            }
            awaitConsumers(admin, queue, WORKERS, workers, dir);
            int leader = cluster.leader(queue);

            // Two publishers; the first is made to sit on the leader's node, so the fault catches publishes in
            // flight there (connections pick a node at random: reopen until it lands).
            List<Publisher> publishers = List.of(
                    new Publisher(openOn(clusterUri, leader), queue, 0, TASKS / 2, ledger),
                    new Publisher(BrokerConnection.open(BrokerConfig.builder(clusterUri)
                            .connectionName("cluster-it-publisher-2").build()), queue, TASKS / 2, TASKS - TASKS / 2,
                            ledger));
            AtomicInteger sent = new AtomicInteger();
            publishers.forEach(p -> p.start(sent));
            while (sent.get() < TASKS * 2 / 5 && publishers.stream().anyMatch(Publisher::isAlive)) {
                Thread.sleep(50);
            }
            long faultAt = System.currentTimeMillis();
            String faultText = inject(fault, leader, queue, proxy);
            for (Publisher p : publishers) {
                p.join(Duration.ofMinutes(30));
            }
            publishers.forEach(Publisher::close);

            // Send again exactly what was not confirmed, with the CLI, under the same ids.
            List<BatchResult.Failure> failures = new ArrayList<>();
            publishers.forEach(p -> failures.addAll(p.failures.values()));
            if (!failures.isEmpty()) {
                Path left = dir.resolve("unconfirmed.jsonl");
                new UnconfirmedTasks().write(left, new BatchResult(List.of(), failures), List.of());
                HopperJar.Result resend = HopperJar.run(Map.of(), "--uri", cluster.uri(), "publish", "--resume",
                        left.toString());
                assertThat(resend.exitCode()).as(resend.toString()).isZero();
                failures.forEach(f -> ledger.resentConfirmed.add(f.task().messageId()));
            }

            // Wait for the workers to finish what is owed (bounded), then take the dead letters.
            long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
            while (System.nanoTime() < deadline) {
                ledger.readRuns(ledgerFiles);
                drainDead(admin, queue + ".dead", ledger);
                if (ledger.lost() == 0 && depth(admin, queue) == 0) {
                    break;
                }
                Thread.sleep(2000);
            }
            stopWorkers(workers);
            ledger.readRuns(ledgerFiles);
            drainDead(admin, queue + ".dead", ledger);
            String row = ledger.row(fault, faultText, PREFETCH * WORKERS, faultAt);
            rows.add(row);
            System.out.print(ClusterLedger.header() + row);

            assertThat(ledger.lost()).as("confirmed tasks neither completed nor dead (see %s)", dir).isZero();
            assertThat(ledger.unexpected()).as("runs of tasks never published").isZero();
            assertThat(ledger.resentRunTwice()).as("in-flight tasks resent by hopper publish --resume that ran "
                    + "twice").isZero();
            assertThat(ledger.duplicateRuns()).as("duplicate runs within the bound (prefetch x workers)")
                    .isLessThanOrEqualTo(PREFETCH * WORKERS);
            if (fault.equals("kill") || fault.equals("stop-app")) {
                assertThat(ledger.unknown.size() + ledger.notSent.size())
                        .as("the publisher on the lost node saw its publishes fail").isPositive();
            }
        } finally {
            stopWorkers(workers);
            deleteQueues(clusterUri, queue);
        }
    }

    /** Injects the fault, waits out the outage and ends it; returns what was done, for the table. */
    private String inject(String fault, int leader, String queue, TcpProxy proxy) throws InterruptedException {
        switch (fault) {
            case "kill":
                cluster.kill(leader);
                Thread.sleep(OUTAGE_SECONDS * 1000L);
                cluster.startNode(leader);
                return "kill -9 leader " + ClusterNodes.nodeName(leader) + ", restart after " + OUTAGE_SECONDS + " s";
            case "stop-app":
                cluster.stopApp(leader);
                Thread.sleep(OUTAGE_SECONDS * 1000L);
                cluster.startApp(leader);
                return "stop_app leader " + ClusterNodes.nodeName(leader) + ", start_app after " + OUTAGE_SECONDS
                        + " s";
            default:
                proxy.cut();
                Thread.sleep(OUTAGE_SECONDS * 1000L);
                proxy.heal();
                return "network cut worker 3 <-> " + ClusterNodes.nodeName(1) + " for " + OUTAGE_SECONDS + " s";
        }
    }

    /** A connection on node {@code node}: reopened until the random pick lands there (at most 30 tries). */
    private static BrokerConnection openOn(URI clusterUri, int node) {
        String wanted = "127.0.0.1:" + (ClusterNodes.FIRST_AMQP_PORT + node - 1);
        for (int i = 0; i < 30; i++) {
            BrokerConnection c = BrokerConnection.open(BrokerConfig.builder(clusterUri)
                    .connectionName("cluster-it-publisher-1").build());
            if (c.connectedNode().equals(wanted)) {
                return c;
            }
            c.close();
        }
        throw new AssertionError("30 connections over " + clusterUri + " never landed on " + wanted);
    }

    /** One paced publisher thread over its own connection; records every outcome in the ledger. */
    private static final class Publisher {
        final BrokerConnection connection;
        final TaskPublisher publisher;
        final String queue;
        final int first;
        final int count;
        final ClusterLedger ledger;
        final Map<String, BatchResult.Failure> failures = new ConcurrentHashMap<>();
        final AtomicLong pending = new AtomicLong();
        Thread thread;
        volatile Throwable crashed;

        Publisher(BrokerConnection connection, String queue, int first, int count, ClusterLedger ledger) {
            this.connection = connection;
            this.queue = queue;
            this.publisher = TaskPublisher.builder().connection(connection).windowSize(500)
                    .windowWait(Duration.ofSeconds(5)).confirmTimeout(Duration.ofSeconds(60)).build();
            this.first = first;
            this.count = count;
            this.ledger = ledger;
        }

        void start(AtomicInteger sent) {
            thread = new Thread(() -> {
                try {
                    long start = System.nanoTime();
                    for (int i = 0; i < count; i++) {
                        long due = start + i * 1_000_000_000L / RATE;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        publishOne(first + i);
                        sent.incrementAndGet();
                    }
                    long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (pending.get() > 0 && System.nanoTime() < until) {
                        Thread.sleep(20);
                    }
                } catch (Throwable t) {
                    crashed = t;
                }
            }, "cluster-it-publisher-" + first);
            thread.start();
        }

        private void publishOne(int n) {
            Task task = Task.builder().queue(queue).type(LedgerHandler.TYPE)
                    .jsonPayload("{\"n\":" + n + ",\"ms\":" + HANDLER_MS + "}").build();
            synchronized (ledger) {
                ledger.attempted.add(task.messageId());
                ledger.sentAt.put(task.messageId(), System.currentTimeMillis());
            }
            pending.incrementAndGet();
            publisher.publishAsync(task).whenComplete((receipt, error) -> {
                synchronized (ledger) {
                    if (error == null) {
                        ledger.confirmed.add(task.messageId());
                    } else {
                        PublishException p = error instanceof PublishException pe ? pe
                                : new PublishException(PublishException.Reason.CONNECTION_LOST, true,
                                        String.valueOf(error), error);
                        (p.mayHaveArrived() ? ledger.unknown : ledger.notSent).add(task.messageId());
                        failures.put(task.messageId(), new BatchResult.Failure(n, task, p));
                    }
                }
                pending.decrementAndGet();
            });
        }

        boolean isAlive() {
            return thread.isAlive();
        }

        void join(Duration max) throws InterruptedException {
            thread.join(max.toMillis());
            assertThat(thread.isAlive()).as("publisher still running after " + max).isFalse();
            if (crashed != null) {
                throw new AssertionError("publisher failed", crashed);
            }
            assertThat(pending.get()).as("publishes with no outcome after 90 s").isZero();
        }

        void close() {
            publisher.close();
            connection.close();
        }
    }

    private static void awaitConsumers(BrokerConnection admin, String queue, int n, List<Process> workers, Path dir)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            for (Process w : workers) {
                if (!w.isAlive()) {
                    throw new AssertionError("a worker exited at start (exit " + w.exitValue() + "); see " + dir);
                }
            }
            try {
                Channel ch = admin.openChannel();
                try {
                    if (ch.queueDeclarePassive(queue).getConsumerCount() >= n) {
                        return;
                    }
                } finally {
                    if (ch.isOpen()) {
                        ch.close();
                    }
                }
            } catch (java.io.IOException e) {
                // Not declared yet.
            }
            Thread.sleep(500);
        }
        throw new AssertionError(n + " consumers did not appear on " + queue + " within 3 minutes; see " + dir);
    }

    private static long depth(BrokerConnection admin, String queue) throws Exception {
        Channel ch = admin.openChannel();
        try {
            return ch.queueDeclarePassive(queue).getMessageCount();
        } finally {
            if (ch.isOpen()) {
                ch.close();
            }
        }
    }

    private static void drainDead(BrokerConnection admin, String deadQueue, ClusterLedger ledger) throws Exception {
        Channel ch = admin.openChannel();
        try {
            GetResponse r;
            while ((r = ch.basicGet(deadQueue, true)) != null) {
                ledger.dead.add(r.getProps().getMessageId());
            }
        } catch (java.io.IOException e) {
            // Not declared yet: nothing dead.
        } finally {
            if (ch.isOpen()) {
                ch.close();
            }
        }
    }

    private static void stopWorkers(List<Process> workers) throws InterruptedException {
        for (Process w : workers) {
            w.destroy(); // SIGTERM: drain and exit
        }
        for (Process w : workers) {
            if (!w.waitFor(30, TimeUnit.SECONDS)) {
                w.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static void deleteQueues(URI clusterUri, String queue) {
        try (BrokerConnection c = BrokerConnection.open(BrokerConfig.builder(clusterUri)
                .connectionName("cluster-it-cleanup").build())) {
            Channel ch = c.openChannel();
            for (String q : List.of(queue, queue + ".dead", queue + ".retry.5s", queue + ".retry.30s",
                    queue + ".retry.5m", queue + ".retry.1h")) {
                ch.queueDelete(q);
            }
            ch.close();
        } catch (Exception e) {
            System.err.println("cleanup of " + queue + " on the throwaway cluster failed: " + e);
        }
    }

}
