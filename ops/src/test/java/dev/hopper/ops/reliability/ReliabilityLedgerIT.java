package dev.hopper.ops.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.hopper.ops.reliability.LedgerRig.QUEUE_YAML;
import static dev.hopper.ops.reliability.LedgerRig.sleep;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TcpProxy;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.ThrowawayRabbit;
import dev.hopper.topology.testing.ThrowawayRedis;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reliability ledger (docs/reliability.md): each row stages one fault against real {@code hopper worker} JVMs
 * and writes what happened to every task ({@link Ledger}). Rows tagged {@code fast} run in the default build; the
 * {@code reliability} Maven profile runs every row. Faults that would disturb the shared broker (connections
 * closed, memory alarm, restarts) use a throwaway node on ports 5692-5694; Redis faults a throwaway Redis.
 */
@ExtendWith(TestQueues.class)
@Timeout(600)
class ReliabilityLedgerIT {
    @TempDir
    Path dir;

    private LedgerRig sharedRig(TestBroker broker, TestQueues queues, String hint, String yaml) throws Exception {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name(hint)).build());
        LedgerRig rig = new LedgerRig(dir, broker.uri(), null, spec, yaml);
        queues.track(rig.configured());
        return rig;
    }

    private static LedgerRig nodeRig(Path dir, ThrowawayRabbit node, String name) throws Exception {
        return new LedgerRig(dir, node.uri(), null, QueueSpec.builder(name).build(), QUEUE_YAML);
    }

    @Test
    @Tag("fast")
    void workerKill9MidTask(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("worker-kill-9", "kill -9 of one of two workers mid-task, replacement started")
                .duplicateBound(4, "tasks running on the killed worker (concurrency 4)");
        try (LedgerRig rig = sharedRig(broker, queues, "kill9", QUEUE_YAML)) {
            Process victim = rig.startWorker();
            rig.runWithFault(ledger, 200, 100, null, 40, "killed pid", () -> {
                victim.destroyForcibly(); // SIGKILL to this worker's exact pid
                victim.waitFor();
                rig.startWorker();
                return victim.pid();
            });
        }
        ledger.writeAndAssert();
    }

    /**
     * Fails on today's main: the healthy tasks prefetched beside the poison task are redelivered with it at every
     * crash, counted by the crash-loop guard, and dead-lettered as {@code poison} too (issue 17 finding 3, which
     * the consumer rewrite fixes). Kept in the full profile, out of the default build, until then.
     */
    @Test
    @Tag("full")
    void poisonWithPrefetchAboveOne(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("poison-prefetch-8", "a task that kills its worker JVM, prefetch 8, "
                + "poison-after 2, workers restarted as they die");
        int[] crashes = {0};
        try (LedgerRig rig = sharedRig(broker, queues, "poison", QUEUE_YAML.replace("concurrency: 4",
                "concurrency: 2"))) {
            rig.startWorker();
            rig.publish(ledger, 41, i -> i == 20 ? Map.of("crash", true) : sleep(20), i -> i != 20, null);
            rig.awaitSettled(ledger, 1, Duration.ofSeconds(240), () -> {
                for (Process p : List.copyOf(rig.workers())) {
                    if (!p.isAlive() && rig.workers().stream().noneMatch(Process::isAlive)) {
                        crashes[0]++;
                        try {
                            rig.startWorker();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
                }
            });
            rig.stopAndCollect(ledger);
            ledger.duplicateBound(2 * crashes[0], "tasks running beside the poison task at each crash "
                    + "(concurrency 2 x " + crashes[0] + " crashes)").note("worker crashes", crashes[0]);
        }
        ledger.writeAndAssert();
    }

    @Test
    @Tag("fast")
    void hostileInput(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("hostile-input", "100k-deep JSON, 50 MB string, 100k-digit number, @class "
                + "canary, header table / negative / 2^63 attempt, among 20 healthy tasks")
                .duplicateBound(0, "no fault that repeats work");
        try (LedgerRig rig = sharedRig(broker, queues, "hostile", QUEUE_YAML)) {
            Process worker = rig.startWorker();
            rig.publish(ledger, 20, i -> sleep(5), i -> true, null);
            Map<String, byte[]> bodies = new HashMap<>();
            bodies.put("deep", ("[".repeat(100_000) + "]".repeat(100_000)).getBytes(StandardCharsets.US_ASCII));
            bodies.put("huge-string", ("{\"s\":\"" + "x".repeat(50 * 1024 * 1024) + "\"}")
                    .getBytes(StandardCharsets.US_ASCII));
            bodies.put("long-number", ("{\"n\":" + "9".repeat(100_000) + "}").getBytes(StandardCharsets.US_ASCII));
            Map<String, Object> attemptHeaders = new HashMap<>();
            attemptHeaders.put("table", new HashMap<>(Map.of("a", 1)));
            attemptHeaders.put("negative", -1);
            attemptHeaders.put("2^63", Long.MAX_VALUE);
            String canary = null;
            try (Connection c = rig.connect("ledger-hostile"); Channel ch = c.createChannel()) {
                ch.confirmSelect();
                for (Map.Entry<String, byte[]> e : bodies.entrySet()) {
                    ledger.confirmed(publishRaw(ch, rig.spec.name(), e.getValue(), Map.of()), false);
                }
                for (Map.Entry<String, Object> e : attemptHeaders.entrySet()) {
                    ledger.confirmed(publishRaw(ch, rig.spec.name(), "{\"sleepMs\":1}".getBytes(StandardCharsets.UTF_8),
                            Map.of(Headers.ATTEMPT, e.getValue())), false);
                }
                // A class-name type id must stay data: the task runs as plain JSON, nothing is instantiated.
                canary = publishRaw(ch, rig.spec.name(), ("{\"@class\":\"java.lang.ProcessBuilder\",\"command\":"
                        + "[\"touch\",\"" + dir.resolve("canary-fired") + "\"],\"sleepMs\":1}")
                        .getBytes(StandardCharsets.UTF_8), Map.of());
                ledger.confirmed(canary, true);
                ch.waitForConfirmsOrDie(60_000);
            }
            rig.awaitSettled(ledger, 6, Duration.ofSeconds(180), () -> {});
            assertThat(worker.isAlive()).as("the worker survived hostile input").isTrue();
            rig.stopAndCollect(ledger);
            assertThat(ledger.completedIds()).contains(canary);
            assertThat(dir.resolve("canary-fired")).doesNotExist();
            ledger.note("worker restarts", rig.workersStarted() - 1);
        }
        ledger.writeAndAssert();
    }

    private static String publishRaw(Channel ch, String queue, byte[] body, Map<String, Object> headers)
            throws Exception {
        String id = UUID.randomUUID().toString();
        TaskEnvelope env = TaskEnvelope.fresh(id, LedgerRig.TYPE, null, null, Instant.now(), body);
        AMQP.BasicProperties props = EnvelopeCodec.properties(env);
        Map<String, Object> h = new HashMap<>(props.getHeaders());
        h.putAll(headers);
        ch.basicPublish(QueueNames.TASKS_EXCHANGE, queue, true, props.builder().headers(h).build(), body);
        return id;
    }

    @Test
    @Tag("fast")
    void redisDownWhileKeyedTasksRun(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("redis-down", "throwaway Redis frozen (SIGSTOP) for 8 s while keyed tasks run")
                .duplicateBound(4, "a lease that lapses while Redis is frozen (concurrency 4)");
        try (ThrowawayRedis redis = ThrowawayRedis.start()) {
            QueueSpec spec = queues.track(QueueSpec.builder(queues.name("redis")).build());
            try (LedgerRig rig = new LedgerRig(dir, broker.uri(), redis.uri(), spec, QUEUE_YAML)) {
                queues.track(rig.configured());
                rig.runWithFault(ledger, 100, 50, i -> "k-" + (i % 10), 20, "frozen for", () -> {
                    redis.freeze();
                    await().pollDelay(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(9)).until(() -> true);
                    redis.thaw();
                    return "8 s";
                });
            }
        }
        ledger.writeAndAssert();
    }

    @Test
    @Tag("fast")
    void brokerClosesAllConnections() throws Exception {
        Ledger ledger = new Ledger("connections-closed", "rabbitmqctl close_all_connections on a throwaway node "
                + "mid-run").duplicateBound(8, "deliveries whose ack was lost with the channel (prefetch 8)");
        try (ThrowawayRabbit node = ThrowawayRabbit.start("rel-ledger-conn", 5692);
                LedgerRig rig = nodeRig(dir, node, "conn")) {
            rig.runWithFault(ledger, 400, 50, null, 40, "connections closed", node::closeAllConnections);
        }
        ledger.writeAndAssert();
    }

    @Test
    @Tag("fast")
    void memoryAlarmWhilePublishing() throws Exception {
        Ledger ledger = new Ledger("memory-alarm-publish", "memory alarm raised before publishing 20 tasks, cleared "
                + "after 10 s (finding 1)").duplicateBound(0, "nothing is republished");
        try (ThrowawayRabbit node = ThrowawayRabbit.start("rel-ledger-alarm", 5693);
                LedgerRig rig = nodeRig(dir, node, "alarm")) {
            node.raiseMemoryAlarm();
            long at = System.currentTimeMillis();
            Thread clear = new Thread(() -> {
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                node.clearMemoryAlarm();
            });
            clear.start();
            rig.publish(ledger, 20, i -> sleep(5), i -> true, null);
            clear.join();
            ledger.faultWindow(at, System.currentTimeMillis());
            rig.startWorker();
            rig.awaitSettled(ledger, 0, Duration.ofSeconds(120), () -> {});
            rig.stopAndCollect(ledger);
        }
        assertThat(ledger.unknownCount()).as("publishes that waited out the alarm were confirmed").isZero();
        ledger.writeAndAssert();
    }

    @Test
    @Tag("full")
    void brokerRestartUnderLoadWhilePublishing() throws Exception {
        brokerFaultUnderLoad(new Ledger("broker-restart", "stop_app/start_app on a throwaway node while publishing "
                + "and working"), "rel-ledger-restart", 5694, node -> {
                    node.stopApp();
                    node.startApp();
                });
    }

    @Test
    @Tag("full")
    void brokerKill9UnderLoadWhilePublishing() throws Exception {
        brokerFaultUnderLoad(new Ledger("broker-kill-9", "kill -9 of a throwaway node's VM while publishing and "
                + "working, then restarted"), "rel-ledger-kill", 5695, node -> {
                    node.kill9();
                    node.restart();
                });
    }

    /** 600 tasks published while one worker runs them; {@code fault} hits the node after 20 completions. */
    private void brokerFaultUnderLoad(Ledger ledger, String nodeName, int port,
            java.util.function.Consumer<ThrowawayRabbit> fault) throws Exception {
        ledger.duplicateBound(8, "deliveries whose ack was lost (prefetch 8)");
        try (ThrowawayRabbit node = ThrowawayRabbit.start(nodeName, port);
                LedgerRig rig = nodeRig(dir, node, "load")) {
            rig.startWorker();
            long[] window = new long[2];
            Thread faulter = new Thread(() -> {
                await().atMost(Duration.ofSeconds(60)).until(() -> ledger.completions(rig.ledgerFile)
                        .completedIds().size() >= 20);
                window[0] = System.currentTimeMillis();
                fault.accept(node);
                window[1] = System.currentTimeMillis();
            });
            faulter.start();
            rig.publish(ledger, 600, i -> sleep(50), i -> true, null); // about 8 s of work: the fault lands mid-run
            faulter.join();
            ledger.faultWindow(window[0], window[1]);
            rig.awaitSettled(ledger, 0, Duration.ofSeconds(240), () -> {});
            rig.stopAndCollect(ledger);
        }
        ledger.writeAndAssert();
    }

    /** Through a TCP proxy to the shared broker: the proxy's connections are this test's own. */
    private LedgerRig proxiedRig(TestBroker broker, TestQueues queues, TcpProxy proxy, String hint) throws Exception {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name(hint)).build());
        URI direct = broker.uri();
        URI viaProxy = new URI(direct.getScheme(), direct.getUserInfo(), "127.0.0.1", proxy.port(), direct.getPath(),
                null, null);
        LedgerRig rig = new LedgerRig(dir, viaProxy, null, spec, QUEUE_YAML);
        queues.track(rig.configured());
        return rig;
    }

    @Test
    @Tag("full")
    void networkResetBetweenWorkerAndBroker(TestBroker broker, TestQueues queues) throws Exception {
        networkFault(broker, queues, new Ledger("network-reset", "TCP RST of every worker connection (proxy) "
                + "mid-run"), "reset", proxy -> proxy.resetAll());
    }

    @Test
    @Tag("full")
    void networkBlackholePastTheHeartbeat(TestBroker broker, TestQueues queues) throws Exception {
        networkFault(broker, queues, new Ledger("network-blackhole", "no bytes either way (proxy) for 35 s, past "
                + "the 10 s heartbeat, then healed"), "blackhole", proxy -> {
                    proxy.blackhole();
                    await().pollDelay(Duration.ofSeconds(35)).atMost(Duration.ofSeconds(36)).until(() -> true);
                    proxy.heal();
                    return 0;
                });
    }

    /** 200 tasks through a proxy; {@code fault} hits the proxy after 40 completions. */
    private void networkFault(TestBroker broker, TestQueues queues, Ledger ledger, String hint,
            java.util.function.ToIntFunction<TcpProxy> fault) throws Exception {
        ledger.duplicateBound(8, "deliveries whose ack was lost with the connection (prefetch 8)");
        try (TcpProxy proxy = TcpProxy.start("127.0.0.1", broker.uri().getPort());
                LedgerRig rig = proxiedRig(broker, queues, proxy, hint)) {
            rig.runWithFault(ledger, 200, 50, null, 40, "connections hit", () -> fault.applyAsInt(proxy));
        }
        ledger.writeAndAssert();
    }

    @Test
    @Tag("full")
    void slowNetwork(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("network-slow", "50 ms per chunk and 200 KB/s each way (proxy) for the whole run")
                .duplicateBound(0, "nothing fails");
        try (TcpProxy proxy = TcpProxy.start("127.0.0.1", broker.uri().getPort());
                LedgerRig rig = proxiedRig(broker, queues, proxy, "slow")) {
            proxy.slow(Duration.ofMillis(50), 200_000);
            rig.startWorker();
            rig.publish(ledger, 100, i -> sleep(10), i -> true, null);
            rig.awaitSettled(ledger, 0, Duration.ofSeconds(240), () -> {});
            rig.stopAndCollect(ledger);
        }
        ledger.writeAndAssert();
    }

    @Test
    @Tag("fast")
    void oversizedErrorOnTheFailurePath(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("oversized-error", "5 tasks fail with a 1 MB error message until exhausted, "
                + "among 20 healthy").duplicateBound(0, "failures are retries, not duplicates");
        try (LedgerRig rig = sharedRig(broker, queues, "bigerror", QUEUE_YAML)) {
            Process worker = rig.startWorker();
            rig.publish(ledger, 25, i -> i < 5 ? Map.of("failWithMessageBytes", 1024 * 1024) : sleep(5),
                    i -> i >= 5, null);
            rig.awaitSettled(ledger, 5, Duration.ofSeconds(180), () -> {});
            assertThat(worker.isAlive()).isTrue();
            try (Connection c = rig.connect("ledger-bigerror"); Channel ch = c.createChannel()) {
                var dead = ch.basicGet(rig.spec.deadQueue(), false);
                assertThat(dead).isNotNull();
                String message = String.valueOf(dead.getProps().getHeaders().get(Headers.ERROR_MESSAGE));
                ledger.note("x-hopper-error-message bytes", message.length());
                assertThat(message.length()).isLessThan(4096);
                ch.basicNack(dead.getEnvelope().getDeliveryTag(), false, true);
            }
            rig.stopAndCollect(ledger);
        }
        assertThat(ledger.deadReasons()).containsOnly("exhausted");
        ledger.writeAndAssert();
    }

    @Test
    @Tag("fast")
    void replayKilledMidRun(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("replay-killed", "hopper dlq replay of 2,000 dead letters killed with kill -9 "
                + "mid-run, then a worker drains the work queue (finding 9)")
                .duplicateBound(32, "replay's window: copies whose dead letter's removal the broker has not processed");
        try (LedgerRig rig = sharedRig(broker, queues, "replaykill", QUEUE_YAML)) {
            rig.deadLetters(ledger, 2000, "{\"sleepMs\":1}", Map.of());
            Process replay = rig.replay("replay.out");
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(5))
                    .until(() -> rig.depth(rig.spec.name()) >= 500);
            long at = System.currentTimeMillis();
            replay.destroyForcibly();
            replay.waitFor();
            ledger.faultWindow(at, System.currentTimeMillis()).note("replay killed pid", replay.pid());
            rig.startWorker();
            rig.awaitSettled(ledger, 0, Duration.ofSeconds(180), () -> {});
            rig.stopAndCollect(ledger);
            ledger.note("left in the dead queue", ledger.deadReasons().size());
        }
        ledger.writeAndAssert();
    }

    @Test
    @Tag("fast")
    void replayToAMissingTarget(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("replay-missing-target", "hopper dlq replay --to a queue that does not exist")
                .duplicateBound(0, "nothing is moved");
        try (LedgerRig rig = sharedRig(broker, queues, "replaymissing", QUEUE_YAML)) {
            rig.deadLetters(ledger, 200, "{\"sleepMs\":1}", Map.of());
            Process replay = rig.replay("replay-missing.out", "--to", "no-such-queue-" + UUID.randomUUID());
            assertThat(replay.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(replay.exitValue()).as("exit status").isEqualTo(1);
            ledger.note("replay said", java.nio.file.Files.readString(rig.dir.resolve("replay-missing.out")).strip()
                    .lines().reduce((a, b) -> b).orElse(""));
            await().atMost(Duration.ofSeconds(30)).until(() -> rig.depth(rig.spec.deadQueue()) == 200);
            rig.stopAndCollect(ledger);
        }
        assertThat(ledger.deadReasons()).hasSize(200).containsOnly("exhausted");
        ledger.writeAndAssert();
    }
}
