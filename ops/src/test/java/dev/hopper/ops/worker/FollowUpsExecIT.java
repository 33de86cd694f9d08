package dev.hopper.ops.worker;

import static dev.hopper.ops.worker.HopperJar.depth;
import static dev.hopper.ops.worker.HopperJar.lines;
import static dev.hopper.ops.worker.HopperJar.publish;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.topology.FollowUpIds;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import io.lettuce.core.RedisClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Follow-ups and joins from {@code hopper worker --exec}, through the packaged jar, a real broker and Redis: a dead
 * child holds the join, {@code hopper group show} names it, {@code hopper dlq replay} with a fixed command fires the
 * join; bad follow-up lines fail the parent and publish nothing.
 */
@ExtendWith(TestQueues.class)
class FollowUpsExecIT {
    @TempDir
    Path dir;
    private final List<Process> processes = new ArrayList<>();
    private final String namespace = "hopper-it:exec-followups:" + UUID.randomUUID() + ":";
    private final String redis = TestRedis.get().uri().toString();

    @AfterEach
    void cleanUp() {
        processes.forEach(Process::destroyForcibly);
        RedisClient client = RedisClient.create(redis);
        try (var c = client.connect()) {
            List<String> keys = c.sync().keys(namespace + "*");
            if (!keys.isEmpty()) {
                c.sync().del(keys.toArray(new String[0]));
            }
        } finally {
            client.shutdown();
        }
    }

    private Path config(TestQueues queues, TestBroker broker, String queue) throws Exception {
        Path file = dir.resolve("hopper.yml");
        Files.writeString(file, "coordination:\n  namespace: \"" + namespace + "\"\n"
                + "queues:\n  " + queue + ":\n    tiers: [1s]\n    max-body-bytes: 4096\n"
                + "    retry: {delays: [1s], max-attempts: 3}\n");
        HopperConfig config = HopperConfig.load(file);
        queues.track(config.requireQueue(queue));
        try (Connection c = broker.connect("followups-exec-declare")) {
            new Topology(config).declare(c);
        }
        return file;
    }

    private Process worker(String name, String... args) throws Exception {
        Process p = HopperJar.start(dir, name, Map.of(), args);
        processes.add(p);
        return p;
    }

    @Test
    void aDeadChildHoldsTheJoinGroupShowNamesItAndAReplayWithAFixedCommandFiresIt(TestQueues queues,
            TestBroker broker) throws Exception {
        String q = queues.name("execjoin");
        Path config = config(queues, broker, q);
        Path parts = dir.resolve("parts.txt");
        Path joins = dir.resolve("joins.txt");
        Path fixed = dir.resolve("FIXED");
        String line = "{\\\"queue\\\":\\\"" + q + "\\\",\\\"type\\\":\\\"part\\\",\\\"payload\\\":{\\\"i\\\":$i}}";
        String cmd = "case \"$HOPPER_TYPE\" in "
                + "split) for i in 0 1 2; do echo \"" + line + "\" >> \"$HOPPER_FOLLOW_UPS\"; done; "
                + "echo '{\"queue\":\"" + q + "\",\"type\":\"merge\",\"payload\":{\"doc\":9},\"after\":\"all\"}' "
                + ">> \"$HOPPER_FOLLOW_UPS\";; "
                + "part) i=$(sed 's/[^0-9]//g'); "
                + "if [ \"$i\" = 1 ] && [ ! -f '" + fixed + "' ]; then echo \"part $i is broken\" >&2; exit 1; fi; "
                + "echo \"{\\\"i\\\":$i}\" > \"$HOPPER_RESULT\"; echo \"part $i $HOPPER_MESSAGE_ID\" >> '" + parts
                + "';; "
                + "merge) cat >> '" + joins + "'; echo >> '" + joins + "';; esac";
        worker("worker", "--uri", broker.uri().toString(), "--redis", redis, "--config", config.toString(),
                "worker", "--queue", q, "--exec", cmd);
        String parent = "parent-" + UUID.randomUUID();
        try (Connection c = broker.connect("followups-exec-it")) {
            publish(c, q, parent, "split", "{\"doc\":9}");
            await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q + ".dead") == 1 && lines(parts).size() == 2);

            HopperJar.Result shown = HopperJar.run(dir, "show", Duration.ofSeconds(60), "--redis", redis, "--config",
                    config.toString(), "group", "show", parent);
            assertThat(shown.exit()).as(shown.err()).isZero();
            assertThat(shown.out()).contains(FollowUpIds.of(parent, 1)).contains("dead").contains("permanent")
                    .contains("2 of 3 children done, 1 dead: " + FollowUpIds.of(parent, 1) + " (permanent)")
                    .contains("held by 1 dead child");
            assertThat(lines(joins)).isEmpty();

            Files.writeString(fixed, "");
            HopperJar.Result replay = HopperJar.run(dir, "replay", Duration.ofSeconds(60), "--uri",
                    broker.uri().toString(), "--config", config.toString(), "dlq", "replay", "--queue", q);
            assertThat(replay.exit()).as(replay.err()).isZero();

            await().atMost(Duration.ofSeconds(30)).until(() -> lines(joins).stream().anyMatch(l -> !l.isBlank()));
            JsonNode join = new ObjectMapper().readTree(lines(joins).get(0));
            assertThat(join.get("doc").asInt()).isEqualTo(9);
            assertThat(join.get("results").toString()).isEqualTo("[{\"i\":0},{\"i\":1},{\"i\":2}]");
            await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q) == 0);
            assertThat(lines(joins).stream().filter(l -> !l.isBlank())).as("the join ran once").hasSize(1);

            HopperJar.Result json = HopperJar.run(dir, "show-json", Duration.ofSeconds(60), "--redis", redis,
                    "--config", config.toString(), "--json", "group", "show", parent);
            assertThat(json.out()).contains("\"role\":\"join\"");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                HopperJar.Result after = HopperJar.run(dir, "show-after", Duration.ofSeconds(60), "--redis", redis,
                        "--config", config.toString(), "group", "show", parent);
                assertThat(after.out()).contains("3 of 3 children done").contains("): done");
            });
        }
    }

    @Test
    void badFollowUpLinesFailTheParentWithAClearErrorAndPublishNothing(TestQueues queues, TestBroker broker)
            throws Exception {
        String q = queues.name("execbad");
        Path config = config(queues, broker, q);
        Path parts = dir.resolve("parts.txt");
        String good = "{\"queue\":\"" + q + "\",\"type\":\"part\",\"payload\":{}}";
        String big = "{\"queue\":\"" + q + "\",\"type\":\"part\",\"payload\":\"" + "x".repeat(5000) + "\"}";
        Files.writeString(dir.resolve("badjson.jsonl"), good + "\n{\"queue\":\n");
        Files.writeString(dir.resolve("unknownq.jsonl"), good + "\n{\"queue\":\"nowhere\",\"type\":\"t\",\"payload\":1}\n");
        Files.writeString(dir.resolve("big.jsonl"), good + "\n" + big + "\n");
        String cmd = "case \"$HOPPER_TYPE\" in "
                + "part) echo \"$HOPPER_MESSAGE_ID\" >> '" + parts + "';; "
                + "*) cat '" + dir + "'/\"$HOPPER_TYPE\".jsonl >> \"$HOPPER_FOLLOW_UPS\";; esac";
        worker("worker", "--uri", broker.uri().toString(), "--redis", redis, "--config", config.toString(),
                "worker", "--queue", q, "--exec", cmd);
        try (Connection c = broker.connect("followups-exec-bad-it")) {
            publish(c, q, "p-badjson", "badjson", "{}");
            publish(c, q, "p-unknownq", "unknownq", "{}");
            publish(c, q, "p-big", "big", "{}");
            await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, q + ".dead") == 3);
            Map<String, String> errors = new HashMap<>();
            try (Channel ch = c.createChannel()) {
                for (GetResponse r = ch.basicGet(q + ".dead", true); r != null; r = ch.basicGet(q + ".dead", true)) {
                    Map<String, Object> h = r.getProps().getHeaders();
                    assertThat(HeaderValues.text(h, Headers.DEAD_REASON)).hasValue("permanent");
                    errors.put(r.getProps().getMessageId(), HeaderValues.text(h, Headers.ERROR_MESSAGE).orElse(""));
                }
            }
            assertThat(errors.get("p-badjson")).contains("HOPPER_FOLLOW_UPS line 2 is not valid JSON")
                    .endsWith("nothing was published");
            assertThat(errors.get("p-unknownq")).contains("HOPPER_FOLLOW_UPS line 2: unknown queue 'nowhere' (known: "
                    + q + ")");
            assertThat(errors.get("p-big")).contains("HOPPER_FOLLOW_UPS line 2")
                    .contains("over the limit of 4096 bytes");
            assertThat(depth(c, q)).isZero();
            assertThat(lines(parts)).as("no follow-up was published, not even the good first lines").isEmpty();
        }
    }
}
