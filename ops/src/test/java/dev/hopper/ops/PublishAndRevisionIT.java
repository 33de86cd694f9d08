package dev.hopper.ops;

import static dev.hopper.ops.DeadLetterFixture.drain;
import static dev.hopper.ops.DeadLetterFixture.ids;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code hopper publish} and {@code hopper revision} through the packaged jar, against RabbitMQ and Redis. */
@ExtendWith(TestQueues.class)
class PublishAndRevisionIT {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<JsonNode> jsonLines(HopperJar.Result r) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.outLines()) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    @Test
    void publishesConfirmedTasksFromAPayloadACountAndAFile(TestBroker broker, TestQueues queues, @TempDir Path dir)
            throws Exception {
        try (Connection raw = broker.connect("publish-it")) {
            QueueSpec q = DeadLetterFixture.declare(raw, queues, "pub");

            HopperJar.Result one = HopperJar.run("publish", "--queue", q.name(), "--type", "thumbnail", "--payload",
                    "{\"file\":\"a.png\"}");
            assertThat(one.exitCode()).as(one.toString()).isZero();
            assertThat(one.out()).contains("published 1 of 1 task(s) of type thumbnail to " + q.name());
            List<GetResponse> got = drain(raw, q.name());
            assertThat(got).hasSize(1);
            GetResponse m = got.get(0);
            assertThat(new String(m.getBody(), StandardCharsets.UTF_8)).isEqualTo("{\"file\":\"a.png\"}");
            assertThat(m.getProps().getType()).isEqualTo("thumbnail");
            assertThat(m.getProps().getContentType()).isEqualTo("application/json");
            assertThat(m.getProps().getDeliveryMode()).isEqualTo(2);
            assertThat(m.getProps().getHeaders()).containsEntry(Headers.ATTEMPT, 0).containsKey(Headers.PUBLISHED_AT);
            assertThat(one.out()).contains(m.getProps().getMessageId());

            HopperJar.Result five = HopperJar.run("--json", "publish", "--queue", q.name(), "--type", "t",
                    "--payload", "{}", "--count", "5");
            assertThat(five.exitCode()).as(five.toString()).isZero();
            List<String> receipts = jsonLines(five).stream().map(n -> n.get("message_id").asText()).toList();
            assertThat(receipts).hasSize(5);
            assertThat(new HashSet<>(receipts)).hasSize(5);
            assertThat(jsonLines(five)).allSatisfy(n -> assertThat(n.get("queue").asText()).isEqualTo(q.name()));
            assertThat(ids(drain(raw, q.name()))).containsExactlyElementsOf(receipts);

            Path file = dir.resolve("tasks.jsonl");
            Files.writeString(file, "{\"n\":1}\n\n{\"n\":2}\n[3]\n");
            HopperJar.Result fromFile = HopperJar.run("publish", "--queue", q.name(), "--type", "t", "--file",
                    file.toString());
            assertThat(fromFile.exitCode()).as(fromFile.toString()).isZero();
            assertThat(drain(raw, q.name())).extracting(r -> new String(r.getBody(), StandardCharsets.UTF_8))
                    .containsExactly("{\"n\":1}", "{\"n\":2}", "[3]");

            Files.writeString(file, "{\"n\":1}\n{\"n\":\n");
            HopperJar.Result badLine = HopperJar.run("publish", "--queue", q.name(), "--type", "t", "--file",
                    file.toString());
            assertThat(badLine.exitCode()).isEqualTo(1);
            assertThat(badLine.errLines()).hasSize(1);
            assertThat(badLine.err()).contains("line 2").contains("nothing was published");

            HopperJar.Result malformed = HopperJar.run("publish", "--queue", q.name(), "--type", "t", "--payload",
                    "{not json");
            assertThat(malformed.exitCode()).isEqualTo(2);
            assertThat(malformed.errLines()).hasSize(1);
            assertThat(malformed.err()).startsWith("hopper: --payload: ");
            assertThat(DeadLetterFixture.depth(raw, q.name())).isZero();

            String nowhere = queues.name("nowhere");
            HopperJar.Result unroutable = HopperJar.run("publish", "--queue", nowhere, "--type", "t", "--payload",
                    "{}");
            assertThat(unroutable.exitCode()).isEqualTo(1);
            assertThat(unroutable.errLines()).hasSize(1);
            assertThat(unroutable.err()).contains("1 of 1 task(s) failed").contains("unroutable");
        }
    }

    @Test
    void revisionBumpAndGetInRedisAndPublishStampsTheCurrentRevision(TestBroker broker, TestQueues queues)
            throws Exception {
        String redis = TestRedis.get().uri().toString();
        String key = "ops-it:" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
        RedisClient client = RedisClient.create(redis);
        try (Connection raw = broker.connect("revision-it");
                StatefulRedisConnection<String, String> redisConnection = client.connect()) {
            QueueSpec q = DeadLetterFixture.declare(raw, queues, "rev");
            Map<String, String> env = Map.of("REDIS_URI", redis);

            HopperJar.Result noRedis = HopperJar.run("revision", "get", key);
            assertThat(noRedis.exitCode()).isEqualTo(2);
            assertThat(noRedis.errLines()).hasSize(1);
            assertThat(noRedis.err()).contains("--redis");

            assertThat(HopperJar.run(env, "revision", "get", key).out()).contains(key + " is at revision 0");
            assertThat(HopperJar.run(env, "revision", "bump", key).out()).contains(key + " bumped to revision 1");
            HopperJar.Result bumped = HopperJar.run(env, "--json", "revision", "bump", key);
            assertThat(bumped.exitCode()).as(bumped.toString()).isZero();
            assertThat(jsonLines(bumped).get(0).get("revision").asLong()).isEqualTo(2);
            assertThat(jsonLines(HopperJar.run("--redis", redis, "--json", "revision", "get", key)).get(0)
                    .get("revision").asLong()).isEqualTo(2);
            assertThat(redisConnection.sync().get("hopper:rev:" + key)).isEqualTo("2");

            HopperJar.Result published = HopperJar.run(env, "--json", "publish", "--queue", q.name(), "--type", "t",
                    "--key", key, "--payload", "{}");
            assertThat(published.exitCode()).as(published.toString()).isZero();
            assertThat(jsonLines(published).get(0).get("revision").asLong()).isEqualTo(2);
            HopperJar.Result explicit = HopperJar.run(env, "publish", "--queue", q.name(), "--type", "t", "--key",
                    key, "--revision", "1", "--payload", "{}");
            assertThat(explicit.exitCode()).as(explicit.toString()).isZero();
            List<GetResponse> got = drain(raw, q.name());
            assertThat(got).extracting(r -> ((Number) r.getProps().getHeaders().get(Headers.REVISION)).longValue())
                    .containsExactly(2L, 1L);
            assertThat(got.get(0).getProps().getHeaders().get(Headers.KEY).toString()).isEqualTo(key);

            HopperJar.Result down = HopperJar.run(Map.of("REDIS_URI", "redis://:sekrit@127.0.0.1:1"), "revision",
                    "bump", key);
            assertThat(down.exitCode()).isEqualTo(1);
            assertThat(down.errLines()).hasSize(1);
            assertThat(down.err()).startsWith("hopper: Redis coordination store at redis://:***@127.0.0.1:1")
                    .doesNotContain("sekrit");
            HopperJar.Result publishDown = HopperJar.run(Map.of("REDIS_URI", "redis://:sekrit@127.0.0.1:1"),
                    "publish", "--queue", q.name(), "--type", "t", "--key", key, "--payload", "{}");
            assertThat(publishDown.exitCode()).isEqualTo(1);
            assertThat(publishDown.errLines()).hasSize(1);
            assertThat(publishDown.err()).contains("redis://:***@127.0.0.1:1").doesNotContain("sekrit");
            assertThat(DeadLetterFixture.depth(raw, q.name())).isZero();
        } finally {
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                c.sync().del("hopper:rev:" + key);
            }
            client.shutdown();
        }
    }
}
