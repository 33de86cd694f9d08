package dev.hopper.ops.worker;

import static dev.hopper.ops.worker.HopperJar.depth;
import static dev.hopper.ops.worker.HopperJar.lines;
import static dev.hopper.ops.worker.HopperJar.publish;
import static org.assertj.core.api.Assertions.assertThat;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.sun.net.httpserver.HttpServer;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import dev.hopper.topology.TaskEnvelope;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Instant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code hopper worker} as a real process, from the packaged jar, over real queues. */
@ExtendWith(TestQueues.class)
class WorkerCommandIT {
    @TempDir
    Path dir;
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        processes.forEach(Process::destroyForcibly);
    }

    /** A config with 1s tiers for {@code queue}, declared and tracked for cleanup. */
    private Path config(TestQueues queues, TestBroker broker, String queue, String extra) throws Exception {
        Path file = dir.resolve("hopper.yml");
        Files.writeString(file, "queues:\n  " + queue + ":\n    tiers: [1s]\n"
                + "    retry: {delays: [1s], max-attempts: 3}\n" + extra);
        HopperConfig config = HopperConfig.load(file);
        QueueSpec spec = queues.track(config.requireQueue(queue));
        try (Connection c = broker.connect("worker-it-declare")) {
            new Topology(config).declare(c);
        }
        assertThat(spec.tiers()).hasSize(1);
        return file;
    }

    private Process worker(String name, Map<String, String> env, String... args) throws Exception {
        Process p = HopperJar.start(dir, name, env, args);
        processes.add(p);
        return p;
    }

    @Test
    void execMapsExitStatusesToCompletedRetriedAndDead(TestQueues queues, TestBroker broker) throws Exception {
        String q = queues.name("exec");
        Path config = config(queues, broker, q, "");
        Path sink = dir.resolve("runs.txt");
        String cmd = "echo \"$HOPPER_TYPE $HOPPER_ATTEMPT $HOPPER_MESSAGE_ID\" >> '" + sink + "'; "
                + "case \"$HOPPER_TYPE\" in "
                + "ok) exit 0;; "
                + "flaky) [ \"$HOPPER_ATTEMPT\" -ge 1 ] && exit 0; echo 'database busy' >&2; exit 75;; "
                + "*) echo 'warming up' >&2; echo 'cannot resize: image is 0 bytes' >&2; exit 1;; esac";
        Process p = worker("worker", Map.of(), "--uri", broker.uri().toString(), "--config", config.toString(),
                "worker", "--queue", q, "--exec", cmd);
        try (Connection c = broker.connect("worker-it")) {
            publish(c, q, "id-ok", "ok", "{\"n\":1}");
            publish(c, q, "id-flaky", "flaky", "{\"n\":2}");
            publish(c, q, "id-bad", "bad", "{\"n\":3}");
            await().atMost(Duration.ofSeconds(30)).until(() -> lines(sink).size() >= 4 && depth(c, q + ".dead") == 1);
            assertThat(lines(sink)).containsExactlyInAnyOrder(
                    "ok 0 id-ok", "flaky 0 id-flaky", "flaky 1 id-flaky", "bad 0 id-bad");
            try (Channel ch = c.createChannel()) {
                GetResponse dead = ch.basicGet(q + ".dead", true);
                assertThat(dead).isNotNull();
                Map<String, Object> h = dead.getProps().getHeaders();
                assertThat(dead.getProps().getMessageId()).isEqualTo("id-bad");
                assertThat(HeaderValues.text(h, Headers.DEAD_REASON)).hasValue("permanent");
                assertThat(HeaderValues.text(h, Headers.ERROR_MESSAGE))
                        .hasValue("warming up\ncannot resize: image is 0 bytes");
                assertThat(HeaderValues.text(h, Headers.ERROR_CLASS)).hasValue(CommandFailedException.class.getName());
                assertThat(new String(dead.getBody(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"n\":3}");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q) == 0 && depth(c, q + ".retry.1s") == 0);
        }
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(HopperJar.output(dir, "worker.err")).contains("hopper worker: consuming " + q)
                .contains("stopped; completed=2 retried=1 dead=1");
    }

    @Test
    void sigtermPastTheDrainKillsTheCommandsProcessGroupBeforeExitingNonZero(TestQueues queues, TestBroker broker)
            throws Exception {
        // Finding 4: children kept running after the worker exited 0, and the next worker ran the task again.
        String q = queues.name("cut");
        Path config = config(queues, broker, q, "");
        Path pids = dir.resolve("pids.txt");
        String cmd = "(sleep 304 & echo $! >> '" + pids + "'); sleep 305 & echo $! >> '" + pids + "'; wait";
        try (Connection c = broker.connect("worker-it")) {
            publish(c, q, "long-1", "slow", "{}");
            Process p = worker("cut", Map.of(), "--uri", broker.uri().toString(), "--config", config.toString(),
                    "worker", "--queue", q, "--drain-timeout", "1s", "--exec", cmd);
            await().atMost(Duration.ofSeconds(30)).until(() -> lines(pids).size() == 2);
            List<Long> children = lines(pids).stream().map(String::strip).map(Long::parseLong).toList();
            p.destroy(); // SIGTERM
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("exit status when the drain timed out").isEqualTo(1);
            // Killed before the JVM ended. A killed child that init has not reaped yet is a zombie: dead, though
            // ProcessHandle still calls it alive; on a loaded machine the reaping can lag, so zombies count as gone.
            assertThat(children).allSatisfy(pid -> assertThat(running(pid)).as("process %d", pid).isFalse());
            assertThat(HopperJar.output(dir, "cut.err")).contains("the drain timed out");
            // The cut task is back in the queue, not lost and not dead.
            await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q) == 1);
            assertThat(depth(c, q + ".dead")).isZero();
        }
    }

    @Test
    void aCommandTheShellCannotRunPausesTheQueueAndDeadLettersNothing(TestQueues queues, TestBroker broker)
            throws Exception {
        String q = queues.name("exec127");
        Path config = config(queues, broker, q, "");
        // 'exit 127' passes the start check (a builtin) and then fails as a missing program would.
        Process p = worker("broken", Map.of(), "--uri", broker.uri().toString(), "--config", config.toString(),
                "worker", "--queue", q, "--exec", "exit 127");
        try (Connection c = broker.connect("worker-it-127")) {
            publish(c, q, "id-1", "t", "{\"n\":1}");
            publish(c, q, "id-2", "t", "{\"n\":2}");
            await().atMost(Duration.ofSeconds(30)).until(() -> HopperJar.output(dir, "broken.err")
                    .contains("pausing queue=" + q));
            // Both tasks come back from their retry tier into the paused queue and wait there.
            await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q) == 2);
            try (Channel ch = c.createChannel()) {
                assertThat(ch.queueDeclarePassive(q).getConsumerCount()).isZero();
            }
            assertThat(depth(c, q + ".dead")).isZero();
        }
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }

    /**
     * Issue 16's leftover: the tasks already in hand when a deployment error pauses the queue go back without using
     * an attempt (before, each ran the broken command once more and was retried with an attempt used).
     */
    @Test
    void tasksInHandWhenTheQueuePausesGoBackWithoutUsingAnAttempt(TestQueues queues, TestBroker broker)
            throws Exception {
        String q = queues.name("exec127inhand");
        Path config = config(queues, broker, q, "    concurrency: 1\n    prefetch: 6\n");
        Process p = worker("brokenhand", Map.of(), "--uri", broker.uri().toString(), "--config", config.toString(),
                "worker", "--queue", q, "--exec", "sleep 0.5; exit 127");
        try (Connection c = broker.connect("worker-it-127-inhand")) {
            for (int i = 1; i <= 6; i++) {
                publish(c, q, "id-" + i, "t", "{\"n\":" + i + "}");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> HopperJar.output(dir, "brokenhand.err")
                    .contains("pausing queue=" + q));
            // The task that ran comes back from its retry tier; the five in hand come back as copies at once.
            await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q) == 6);
            List<Integer> attempts = new ArrayList<>();
            try (Channel ch = c.createChannel()) {
                GetResponse r;
                while ((r = ch.basicGet(q, false)) != null) {
                    attempts.add(HeaderValues.count(r.getProps().getHeaders(), Headers.ATTEMPT).orElse(0));
                }
            }
            assertThat(attempts).hasSize(6);
            assertThat(attempts.stream().filter(a -> a > 0).count()).as("tasks that used an attempt: only the one "
                    + "that ran before the pause (concurrency 1)").isEqualTo(1);
            assertThat(depth(c, q + ".dead")).isZero();
        }
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void sigtermLetsRunningTasksFinishAndLosesNothing(TestQueues queues, TestBroker broker) throws Exception {
        String q = queues.name("drain");
        Path config = config(queues, broker, q, "");
        Path started = dir.resolve("started.txt");
        Path done = dir.resolve("done.txt");
        String cmd = "echo \"$HOPPER_MESSAGE_ID\" >> '" + started + "'; sleep 1; echo \"$HOPPER_MESSAGE_ID\" >> '"
                + done + "'";
        int tasks = 8;
        try (Connection c = broker.connect("worker-it")) {
            for (int i = 0; i < tasks; i++) {
                publish(c, q, "task-" + i, "slow", "{}");
            }
            Process p = worker("drain", Map.of(), "--uri", broker.uri().toString(), "--config", config.toString(),
                    "worker", "--queue", q, "--concurrency", "2", "--prefetch", "4", "--exec", cmd);
            await().atMost(Duration.ofSeconds(30)).until(() -> !lines(started).isEmpty());
            p.destroy(); // SIGTERM
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            List<String> finished = lines(done);
            // Every task that started was allowed to finish, once.
            assertThat(finished).containsAll(lines(started)).doesNotHaveDuplicates();
            assertThat(finished.size()).isLessThan(tasks);
            // The rest are back in the queue: nothing lost.
            await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q) == tasks - finished.size());
            Set<String> remaining = new HashSet<>();
            try (Channel ch = c.createChannel()) {
                GetResponse r;
                while ((r = ch.basicGet(q, true)) != null) {
                    remaining.add(r.getProps().getMessageId());
                }
            }
            Set<String> all = new HashSet<>(finished);
            all.addAll(remaining);
            assertThat(all).hasSize(tasks);
            assertThat(remaining).doesNotContainAnyElementsOf(finished);
            assertThat(depth(c, q + ".dead")).isZero();
        }
        assertThat(HopperJar.output(dir, "drain.err")).contains("stopping; letting running tasks finish");
    }

    @Test
    void handlerFromAUserClasspathRunsItsTypes(TestQueues queues, TestBroker broker) throws Exception {
        String q = queues.name("plugin");
        Path config = config(queues, broker, q, "");
        Path sink = dir.resolve("greetings.txt");
        Process p = worker("plugin", Map.of("HOPPER_SAMPLE_SINK", sink.toString()), "--uri", broker.uri().toString(),
                "--config", config.toString(), "worker", "--queue", q, "--classpath", "target/test-classes",
                "--handler", SampleProvider.class.getName());
        try (Connection c = broker.connect("worker-it")) {
            publish(c, q, "greet-1", "sample.greet", "{\"name\":\"ada\"}");
            publish(c, q, "other-1", "something.else", "{}");
            await().atMost(Duration.ofSeconds(30)).until(() -> lines(sink).contains("hello ada greet-1")
                    && depth(c, q + ".dead") == 1);
            try (Channel ch = c.createChannel()) {
                GetResponse dead = ch.basicGet(q + ".dead", true);
                assertThat(dead.getProps().getMessageId()).isEqualTo("other-1");
                assertThat(HeaderValues.text(dead.getProps().getHeaders(), Headers.DEAD_REASON))
                        .hasValue("unknown-type");
            }
        }
        assertThat(HopperJar.output(dir, "plugin.err")).contains("types sample.greet");
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void webhookFailuresAreRetriedUntilTheEndpointAnswers2xx(TestQueues queues, TestBroker broker) throws Exception {
        String q = queues.name("webhook");
        Path config = config(queues, broker, q, "");
        List<String> attempts = new java.util.concurrent.CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", ex -> {
            ex.getRequestBody().readAllBytes();
            String attempt = ex.getRequestHeaders().getFirst("X-Hopper-Attempt");
            attempts.add(ex.getRequestHeaders().getFirst("X-Hopper-Message-Id") + " " + attempt);
            ex.sendResponseHeaders("0".equals(attempt) ? 503 : 200, -1);
            ex.close();
        });
        server.start();
        try {
            Process p = worker("webhook", Map.of(), "--uri", broker.uri().toString(), "--config", config.toString(),
                    "worker", "--queue", q, "--webhook", "http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
            try (Connection c = broker.connect("worker-it")) {
                publish(c, q, "hook-1", "order.paid", "{\"order\":1}");
                await().atMost(Duration.ofSeconds(30)).until(() -> attempts.size() >= 2);
                await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q) == 0 && depth(c, q + ".retry.1s") == 0);
                assertThat(attempts).containsExactly("hook-1 0", "hook-1 1");
                assertThat(depth(c, q + ".dead")).isZero();
            }
            p.destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            assertThat(HopperJar.output(dir, "webhook.err")).contains("stopped; completed=1 retried=1 dead=0");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void keyedTasksAreLockedInTheRedisOfTheGlobalRedisOption(TestQueues queues, TestBroker broker) throws Exception {
        String q = queues.name("redis");
        Path config = config(queues, broker, q, "");
        Path sink = dir.resolve("keyed.txt");
        String key = "runner-it:" + java.util.UUID.randomUUID();
        String cmd = "echo \"$HOPPER_KEY $HOPPER_REVISION $HOPPER_FENCING_TOKEN\" >> '" + sink + "'";
        URI redis = TestRedis.get().uri();
        Process p = worker("redis", Map.of(), "--uri", broker.uri().toString(), "--redis", redis.toString(),
                "--config", config.toString(), "worker", "--queue", q, "--exec", cmd);
        try (Connection c = broker.connect("worker-it")) {
            publish(c, q, TaskEnvelope.fresh("keyed-1", "keyed", key, 0L, Instant.now(), "{}".getBytes(UTF_8)));
            await().atMost(Duration.ofSeconds(30)).until(() -> !lines(sink).isEmpty());
        }
        String[] run = lines(sink).get(0).split(" ");
        assertThat(run[0]).isEqualTo(key);
        assertThat(run[1]).isEqualTo("0");
        // The fencing token the command saw is the one the Redis store issued for the key.
        RedisClient client = RedisClient.create(RedisURI.create(redis));
        try (StatefulRedisConnection<String, String> rc = client.connect()) {
            assertThat(rc.sync().get("hopper:token:" + key)).isEqualTo(run[2]);
            rc.sync().del("hopper:token:" + key, "hopper:done:keyed-1");
        } finally {
            client.shutdown();
        }
        assertThat(HopperJar.output(dir, "redis.err")).contains("locks and revisions in redis://127.0.0.1");
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void anUnreachableBrokerIsOneClearLineAndExit1(TestQueues queues) throws Exception {
        HopperJar.Result r = HopperJar.run(dir, "nobroker", Duration.ofSeconds(60), "--uri",
                "amqp://guest:secret@127.0.0.1:1/", "worker", "--queue", queues.name("nobroker"), "--builtin", "noop");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip().lines()).singleElement().satisfies(l -> assertThat(l)
                .startsWith("hopper: cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/").doesNotContain("secret"));
    }

    /** True while {@code pid} exists and is not a zombie ({@code /proc/<pid>/stat} state {@code Z}). */
    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException gone) {
            return false;
        }
    }
}
