package dev.hopper.ops.publish;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.ops.cli.HopperCommand;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code hopper publish} with delays and coalescing, in process, against the real broker and Redis. */
@ExtendWith(TestQueues.class)
class PublishCommandIT {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    private static Run hopper(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path declare(TestBroker broker, TestQueues queues, String queue, String namespace) throws Exception {
        Path file = dir.resolve("hopper.yml");
        Files.writeString(file, "coordination: {namespace: \"" + namespace + "\"}\nqueues:\n  " + queue
                + ":\n    tiers: [1s, 1m, 1h]\n");
        HopperConfig config = HopperConfig.load(file);
        config.queues().values().forEach(queues::track);
        try (Connection c = broker.connect("publish-it")) {
            new Topology(config).declare(c);
        }
        return file;
    }

    @Test
    void delayedPublishesGoThroughTheTiersOfTheConfig(TestBroker broker, TestQueues queues) throws Exception {
        String queue = queues.name("pubdelay");
        Path config = declare(broker, queues, queue, "hopper-test:" + UUID.randomUUID() + ":");
        Path file = dir.resolve("tasks.jsonl");
        Files.writeString(file, "{\"payload\": {\"n\": 1}, \"delay\": \"2h\"}\n"
                + "{\"payload\": {\"n\": 2}, \"not_before\": \"2000-01-01T00:00:00Z\"}\n{\"n\": 3}\n");

        Run delayed = hopper("--uri", broker.uri().toString(), "--config", config.toString(), "publish", "--queue",
                queue, "--type", "t", "--payload", "{}", "--delay", "90m");
        Run lines = hopper("--uri", broker.uri().toString(), "--config", config.toString(), "--json", "publish",
                "--queue", queue, "--type", "t", "--file", file.toString());

        assertThat(delayed.code()).as(delayed.err()).isZero();
        assertThat(delayed.out()).contains("1 delayed");
        assertThat(lines.code()).as(lines.err()).isZero();
        assertThat(lines.out()).contains("\"not_before\"");
        try (Connection c = broker.connect("publish-it-read"); Channel ch = c.createChannel()) {
            String hour = QueueNames.retryQueue(queue, DelayTier.parse("1h"));
            assertThat(ch.queueDeclarePassive(hour).getMessageCount()).as("90m and 2h: first hop 1h").isEqualTo(2);
            GetResponse first = ch.basicGet(hour, true);
            long notBefore = HeaderValues.whole(first.getProps().getHeaders(), Headers.NOT_BEFORE).orElseThrow();
            assertThat(Instant.ofEpochMilli(notBefore)).isAfter(Instant.now().plusSeconds(80 * 60));
            ch.basicGet(hour, true);
            assertThat(ch.queueDeclarePassive(queue).getMessageCount()).as("a past time and a bare line: at once")
                    .isEqualTo(2);
        }
    }

    @Test
    void coalescedPublishesFromSeparateCommandsShareOnePendingRun(TestBroker broker, TestQueues queues)
            throws Exception {
        String queue = queues.name("pubcoal");
        String namespace = "hopper-test:" + UUID.randomUUID() + ":";
        Path config = declare(broker, queues, queue, namespace);
        try {
            String[] common = {"--uri", broker.uri().toString(), "--redis", TestRedis.get().uri().toString(),
                    "--config", config.toString(), "publish", "--queue", queue, "--type", "digest", "--key", "user:7",
                    "--coalesce", "--debounce", "1m", "--max-delay", "5m", "--payload"};
            Run first = hopper(concat(common, "{\"n\":1}"));
            Run second = hopper(concat(common, "{\"n\":2}"));
            Run third = hopper(concat(common, "{\"n\":3}"));

            assertThat(first.code()).as(first.err()).isZero();
            assertThat(second.code()).as(second.err()).isZero();
            assertThat(second.out()).contains("published 0 of 1").contains("1 absorbed into a pending coalesced run");
            assertThat(third.code()).as(third.err()).isZero();
            try (Connection c = broker.connect("publish-it-read"); Channel ch = c.createChannel()) {
                assertThat(ch.queueDeclarePassive(queue).getMessageCount()).isEqualTo(1);
                GetResponse run = ch.basicGet(queue, true);
                assertThat(new String(run.getBody())).isEqualTo("{\"n\":1}");
                assertThat(run.getProps().getHeaders().get(Headers.COALESCE)).hasToString("60000/300000");
            }
        } finally {
            deleteNamespace(namespace);
        }
    }

    private static String[] concat(String[] a, String last) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = last;
        return out;
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
