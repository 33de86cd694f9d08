package dev.hopper.ops;

import static dev.hopper.ops.DeadLetterFixture.drain;
import static dev.hopper.ops.DeadLetterFixture.headers;
import static dev.hopper.ops.DeadLetterFixture.ids;
import static dev.hopper.ops.DeadLetterFixture.props;
import static dev.hopper.ops.DeadLetterFixture.publish;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.ops.dlq.DeadLetterGroups;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The packaged {@code hopper.jar}, run as a process against the real broker, verb by verb. */
@ExtendWith(TestQueues.class)
class HopperCliIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant NOW = Instant.now();

    Connection raw;

    @BeforeEach
    void connect(TestBroker broker) {
        raw = broker.connect("hopper-cli-it");
    }

    @AfterEach
    void close() throws Exception {
        raw.close();
    }

    static List<JsonNode> jsonLines(HopperJar.Result r) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.outLines()) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    @Test
    void topologyDeclareThenVerifyAndAVerifiedDifferenceExitsOne(TestQueues queues) throws Exception {
        String q = queues.track(QueueSpec.builder(queues.name("topo")).build()).name();
        HopperJar.Result declared = HopperJar.run("topology", "declare", "--queue", q);
        assertThat(declared.exitCode()).as(declared.toString()).isZero();
        assertThat(declared.out()).contains("created", "queue '" + q + ".dead'", "queue '" + q + ".retry.30s'");
        HopperJar.Result again = HopperJar.run("topology", "declare", "--queue", q);
        assertThat(again.out()).doesNotContain("created  ").contains("0 created");

        HopperJar.Result verified = HopperJar.run("topology", "verify", "--queue", q);
        assertThat(verified.exitCode()).as(verified.toString()).isZero();
        assertThat(verified.out()).contains("ok: ");

        // A dead queue that exists as a classic queue: verify names the object and argument, and exits 1.
        String other = queues.track(QueueSpec.builder(queues.name("classic")).build()).name();
        Channel ch = raw.createChannel();
        ch.queueDeclare(QueueNames.deadQueue(other), true, false, false, Map.of());
        ch.close();
        HopperJar.Result differs = HopperJar.run("--json", "topology", "verify", "--queue", other);
        assertThat(differs.exitCode()).as(differs.toString()).isEqualTo(1);
        List<JsonNode> lines = jsonLines(differs);
        assertThat(lines).anySatisfy(n -> {
            assertThat(n.get("object").asText()).isEqualTo("queue '" + other + ".dead'");
            assertThat(n.get("argument").asText()).isEqualTo("x-queue-type");
        });
        assertThat(lines).anySatisfy(n -> assertThat(n.get("problem").asText()).isEqualTo("queue '" + other
                + "' is missing"));
        assertThat(lines.get(lines.size() - 1).get("ok").asBoolean()).isFalse();
    }

    @Test
    void dlqVerbsThroughTheJar(TestQueues queues, @TempDir Path dir) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "verbs");
        // 4 IOExceptions thrown at one place (type a), 2 permanent failures (type b), interleaved.
        List<String> all = publish(raw, q.name(), 6, "v", i -> i % 3 == 2
                ? props("v-" + i, "b", headers(q.name(), "permanent", "java.lang.IllegalStateException",
                        "com.acme.B.run(B.java:2)", NOW.minus(Duration.ofDays(9))))
                : props("v-" + i, "a", headers(q.name(), "exhausted", "java.io.IOException",
                        "com.acme.A.run(A.java:1)", NOW)));
        String groupA = DeadLetterGroups.groupId("exhausted", "java.io.IOException", "at com.acme.A.run(A.java:1)");

        HopperJar.Result list = HopperJar.run("dlq", "list", "--queue", q.name());
        assertThat(list.exitCode()).as(list.toString()).isZero();
        assertThat(list.outLines().get(0)).startsWith("ID").contains("TYPE", "REASON", "ERROR CLASS", "ATTEMPTS",
                "FAILED AT");
        assertThat(list.outLines()).hasSize(1 + 6 + 1);
        assertThat(list.outLines().get(1)).startsWith("v-0").contains("exhausted", "java.io.IOException", groupA);
        assertThat(list.outLines().get(7)).isEqualTo("6 of 6 dead letters in " + q.deadQueue() + " (filter: all)");

        HopperJar.Result permanent = HopperJar.run("--json", "dlq", "list", "--queue", q.name(), "--reason",
                "permanent");
        assertThat(jsonLines(permanent)).extracting(n -> n.get("id").asText()).containsExactly("v-2", "v-5");
        assertThat(jsonLines(permanent).get(0).get("attempts").asInt()).isEqualTo(8);

        HopperJar.Result show = HopperJar.run("dlq", "show", "--queue", q.name(), "v-4");
        assertThat(show.exitCode()).as(show.toString()).isZero();
        assertThat(show.out()).contains("message_id: v-4", "type: a", "group: " + groupA, "headers:",
                "  x-hopper-dead-reason: exhausted", "payload:", "\"n\" : 4");
        HopperJar.Result showJson = HopperJar.run("--json", "dlq", "show", "--queue", q.name(), "v-4");
        assertThat(jsonLines(showJson).get(0).get("payload").get("n").asInt()).isEqualTo(4);
        HopperJar.Result notThere = HopperJar.run("dlq", "show", "--queue", q.name(), "nope");
        assertThat(notThere.exitCode()).isEqualTo(1);
        assertThat(notThere.errLines()).hasSize(1);
        assertThat(notThere.err()).startsWith("hopper: no dead letter with id 'nope' in " + q.deadQueue());

        HopperJar.Result groups = HopperJar.run("--json", "dlq", "groups", "--queue", q.name());
        List<JsonNode> g = jsonLines(groups);
        assertThat(g).hasSize(2);
        assertThat(g.get(0).get("group").asText()).isEqualTo(groupA);
        assertThat(g.get(0).get("count").asInt()).isEqualTo(4);
        assertThat(g.get(0).get("top_frame").asText()).isEqualTo("at com.acme.A.run(A.java:1)");
        assertThat(g.get(1).get("count").asInt()).isEqualTo(2);
        assertThat(g.get(1).get("first_failed_at").asText()).isNotEmpty();

        Path file = dir.resolve("dead.jsonl");
        HopperJar.Result export = HopperJar.run("dlq", "export", "--queue", q.name(), "--file", file.toString());
        assertThat(export.exitCode()).as(export.toString()).isZero();
        assertThat(Files.readAllLines(file)).hasSize(6).allSatisfy(l -> assertThat(l).startsWith("{"));
        HopperJar.Result exportOut = HopperJar.run("dlq", "export", "--queue", q.name(), "--type", "b");
        assertThat(exportOut.outLines()).hasSize(2);
        assertThat(exportOut.err()).contains("exported 2 of 6");

        HopperJar.Result noYes = HopperJar.run("dlq", "purge", "--queue", q.name());
        assertThat(noYes.exitCode()).isEqualTo(2);
        assertThat(noYes.errLines()).hasSize(1);
        HopperJar.Result purge = HopperJar.run("dlq", "purge", "--queue", q.name(), "--older-than", "7d", "--yes");
        assertThat(purge.exitCode()).as(purge.toString()).isZero();
        assertThat(purge.out()).contains("purged 2 dead letters");
        assertThat(purge.err()).contains("dlq purge by=").contains("purged=2");

        HopperJar.Result replay = HopperJar.run("dlq", "replay", "--queue", q.name(), "--group", groupA);
        assertThat(replay.exitCode()).as(replay.toString()).isZero();
        assertThat(replay.out()).contains("replayed 4 of 4");
        assertThat(replay.err()).contains("dlq replay by=").contains("group=" + groupA).contains("replayed=4");
        List<GetResponse> work = drain(raw, q.name());
        assertThat(ids(work)).containsExactly("v-0", "v-1", "v-3", "v-4");
        assertThat(work.get(0).getProps().getHeaders().get(Headers.REPLAYED_BY).toString()).contains("@");
        assertThat(DeadLetterFixture.depth(raw, q.deadQueue())).isZero();

        // Import the export back: into the dead queue (default) and, for the permanent ones, into the work queue.
        HopperJar.Result imported = HopperJar.run("dlq", "import", "--queue", q.name(), "--file", file.toString());
        assertThat(imported.exitCode()).as(imported.toString()).isZero();
        assertThat(imported.out()).contains("imported 6 messages into " + q.deadQueue());
        List<GetResponse> dead = drain(raw, q.deadQueue());
        assertThat(ids(dead)).containsExactlyElementsOf(all);
        AMQP.BasicProperties p = dead.get(2).getProps();
        assertThat(p.getType()).isEqualTo("b");
        assertThat(p.getHeaders().get(Headers.ERROR_CLASS).toString()).isEqualTo("java.lang.IllegalStateException");
        assertThat(new String(dead.get(2).getBody(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":2,\"prefix\":\"v\"}");
        Path bs = dir.resolve("b.jsonl");
        Files.writeString(bs, exportOut.out());
        HopperJar.Result intoWork = HopperJar.run("dlq", "import", "--queue", q.name(), "--file", bs.toString(),
                "--into", "work");
        assertThat(intoWork.out()).contains("imported 2 messages into " + q.name());
        assertThat(ids(drain(raw, q.name()))).containsExactly("v-2", "v-5");

        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, exportOut.outLines().get(0) + "\n{oops\n");
        HopperJar.Result malformed = HopperJar.run("dlq", "import", "--queue", q.name(), "--file", bad.toString());
        assertThat(malformed.exitCode()).isEqualTo(1);
        assertThat(malformed.errLines()).hasSize(1);
        assertThat(malformed.err()).contains("line 2: not JSON");
        assertThat(DeadLetterFixture.depth(raw, q.deadQueue())).isZero();

        // Finding 13: a binary file said only "Input length = 1".
        Path binary = dir.resolve("export.jsonl.gz");
        Files.writeString(binary, exportOut.outLines().get(0) + "\n");
        Files.write(binary, new byte[] {0x1f, (byte) 0x8b, 0x08, 0x00, (byte) 0xff, (byte) 0xfe, '\n'},
                java.nio.file.StandardOpenOption.APPEND);
        HopperJar.Result notText = HopperJar.run("dlq", "import", "--queue", q.name(), "--file", binary.toString());
        assertThat(notText.exitCode()).isEqualTo(1);
        assertThat(notText.errLines()).hasSize(1);
        assertThat(notText.err()).contains(binary.toString()).contains("line 2: not UTF-8 text");
        assertThat(DeadLetterFixture.depth(raw, q.deadQueue())).isZero();
    }

    @Test
    void statsShowsEveryQueueWithDepthAndConsumers(TestQueues queues, @TempDir Path dir) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "stats");
        publish(raw, q.name(), 3, "s", i -> props("s-" + i, "a", Map.of()));
        Channel ch = raw.createChannel();
        ch.confirmSelect();
        ch.basicPublish(QueueNames.TASKS_EXCHANGE, q.name(), props("w", "a", Map.of()), "{}".getBytes());
        ch.waitForConfirmsOrDie(10_000);
        Channel consumer = raw.createChannel();
        consumer.basicQos(1);
        consumer.basicConsume(q.retryQueue(q.tiers().get(0)), false, (t, d) -> {}, t -> {});
        Path config = dir.resolve("hopper.yml");
        Files.writeString(config, "queues:\n  " + q.name() + ":\n    tiers: [5s]\n");

        HopperJar.Result r = HopperJar.run("--json", "--config", config.toString(), "stats");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        List<JsonNode> rows = jsonLines(r);
        assertThat(rows).extracting(n -> n.get("queue").asText() + " " + n.get("kind").asText() + " "
                + n.get("messages").asText() + " " + n.get("consumers").asText())
                .containsExactly(q.name() + " work 1 0", q.name() + ".retry.5s retry 0 1", q.name() + ".dead dead 3 0");
        HopperJar.Result text = HopperJar.run("--config", config.toString(), "stats", "--queue", q.name());
        assertThat(text.outLines().get(0)).startsWith("QUEUE").contains("KIND", "MESSAGES", "CONSUMERS");
        consumer.close();
        ch.close();

        // Without a config the tiers are looked for among the built-in policies': the 5s tier is found, and no
        // tier the queue does not use is reported missing.
        HopperJar.Result found = HopperJar.run("--json", "stats", "--queue", q.name());
        assertThat(found.exitCode()).as(found.toString()).isZero();
        assertThat(jsonLines(found)).extracting(n -> n.get("queue").asText()).containsExactly(q.name(),
                q.name() + ".retry.5s", q.name() + ".dead");
        // A queue that does not exist at all: listed as missing, exit 1, one line on stderr.
        String nowhere = queues.name("nowhere");
        HopperJar.Result missing = HopperJar.run("stats", "--queue", nowhere);
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.outLines()).anySatisfy(l -> assertThat(l).startsWith(nowhere + ".retry.30s ")
                .endsWith("missing"));
        assertThat(missing.errLines()).hasSize(1);
        assertThat(missing.err()).contains("missing").doesNotContain("guest:guest");
    }

    @Test
    void badUsageIsOneLineWithExitTwoAndAnUnreachableBrokerOneLineWithExitOne() {
        HopperJar.Result unknown = HopperJar.run("dlq", "list", "--queue", "q", "--frobnicate");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.errLines()).containsExactly(
                "hopper: Unknown option: '--frobnicate' (see 'hopper dlq list --help')");
        assertThat(unknown.out()).isEmpty();

        HopperJar.Result noQueue = HopperJar.run("dlq", "replay", "--reason", "exhausted");
        assertThat(noQueue.exitCode()).isEqualTo(2);
        assertThat(noQueue.errLines()).hasSize(1);
        assertThat(noQueue.err()).contains("--queue");

        HopperJar.Result down = HopperJar.run(Map.of("RABBITMQ_URI", "amqp://ops:hunter2@127.0.0.1:1/"),
                "dlq", "list", "--queue", "q");
        assertThat(down.exitCode()).isEqualTo(1);
        assertThat(down.errLines()).hasSize(1);
        assertThat(down.err()).startsWith("hopper: cannot reach RabbitMQ at amqp://ops:***@127.0.0.1:1/")
                .doesNotContain("hunter2");

        HopperJar.Result help = HopperJar.run("dlq", "replay", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("--dry-run", "--rate", "--reset-attempts", "--to", "Examples:");
    }
}
