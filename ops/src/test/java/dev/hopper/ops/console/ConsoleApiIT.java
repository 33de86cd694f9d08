package dev.hopper.ops.console;

import static dev.hopper.ops.console.ConsoleFixture.depth;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The console's JSON API and its guards against a real broker. */
@ExtendWith(TestQueues.class)
@Timeout(180)
class ConsoleApiIT {
    static final ConsoleFixture.Failure IO = new ConsoleFixture.Failure("exhausted", "java.io.IOException",
            "com.acme.Upload.send(Upload.java:42)");
    static final ConsoleFixture.Failure NPE = new ConsoleFixture.Failure("permanent", "java.lang.NullPointerException",
            "com.acme.Resize.run(Resize.java:7)");

    @Test
    void listsFiltersGroupsShowsAndReplaysAGroup(TestBroker broker, TestQueues queues) throws Exception {
        try (Connection raw = broker.connect("console-api-it")) {
            QueueSpec q = ConsoleFixture.declare(raw, queues, "api");
            Instant now = Instant.now();
            ConsoleFixture.publish(raw, q.name(), 120, i -> ConsoleFixture.props(q.name(), "m-" + i,
                    i % 3 == 0 ? "resize" : "upload", "user:" + (i % 10), i % 3 == 0 ? NPE : IO, now.minusSeconds(i)),
                    i -> ConsoleFixture.json("{\"n\":" + i + "}"));
            try (Console console = ConsoleFixture.start(broker, "console-api-it-console", List.of(q))) {
                ConsoleFixture.Client client = new ConsoleFixture.Client(console);
                await().atMost(Duration.ofSeconds(30)).until(() -> console.indexedLetters(q.name()) == 120);

                JsonNode overview = client.getJson("/api/queues");
                assertThat(overview.get("broker").asText()).doesNotContain("guest:guest");
                JsonNode row = overview.get("queues").get(0);
                assertThat(row.get("queue").asText()).isEqualTo(q.name());
                assertThat(row.get("dead").asLong()).isEqualTo(120);
                assertThat(row.get("delayed").has("5s")).isTrue();
                assertThat(row.get("lastHour")).hasSize(12);
                long lastHour = 0;
                for (JsonNode n : row.get("lastHour")) {
                    lastHour += n.asLong();
                }
                assertThat(lastHour).isEqualTo(120);

                JsonNode page1 = client.getJson("/api/queues/" + q.name() + "/dead?page=1");
                assertThat(page1.get("matched").asInt()).isEqualTo(120);
                assertThat(page1.get("pages").asInt()).isEqualTo(3);
                assertThat(page1.get("letters")).hasSize(50);
                assertThat(page1.get("letters").get(0).get("id").asText()).isEqualTo("m-0");
                JsonNode page3 = client.getJson("/api/queues/" + q.name() + "/dead?page=3");
                assertThat(page3.get("letters")).hasSize(20);

                JsonNode npe = client.getJson("/api/queues/" + q.name() + "/dead?errorClass=NullPointerException");
                assertThat(npe.get("matched").asInt()).isEqualTo(40);
                JsonNode byKey = client.getJson("/api/queues/" + q.name() + "/dead?key=user:3&type=resize");
                assertThat(byKey.get("matched").asInt()).isEqualTo(4); // i = 3, 33, 63, 93

                JsonNode groups = client.getJson("/api/queues/" + q.name() + "/groups").get("groups");
                assertThat(groups).hasSize(2);
                assertThat(groups.get(0).get("count").asLong()).isEqualTo(80);
                String npeGroup = groups.get(1).get("id").asText();

                JsonNode letter = client.getJson("/api/queues/" + q.name() + "/dead/m-3");
                assertThat(letter.get("errorClass").asText()).isEqualTo("java.lang.NullPointerException");
                assertThat(letter.get("stack").asText()).contains("com.acme.Resize.run");
                assertThat(letter.get("payload").asText()).contains("\"n\" : 3");
                assertThat(letter.get("headers").get("x-hopper-key").asText()).isEqualTo("user:3");
                assertThat(client.get("/api/queues/" + q.name() + "/dead/nope").statusCode()).isEqualTo(404);

                JsonNode dry = client.postJson("/api/queues/" + q.name() + "/replay",
                        "{\"group\":\"" + npeGroup + "\",\"dryRun\":true}");
                assertThat(dry.get("selected").asLong()).isEqualTo(40);
                ConsoleFixture.awaitDepth(raw, q.deadQueue(), 120);
                assertThat(depth(raw, q.name())).isZero();

                JsonNode done = client.postJson("/api/queues/" + q.name() + "/replay",
                        "{\"group\":\"" + npeGroup + "\",\"dryRun\":false,\"resetAttempts\":true}");
                assertThat(done.get("replayed").asLong()).isEqualTo(40);
                assertThat(done.get("deadAfter").asLong()).isEqualTo(80);
                assertThat(depth(raw, q.name())).isEqualTo(40);
                ConsoleFixture.awaitDepth(raw, q.deadQueue(), 80);
                assertThat(client.getJson("/api/queues/" + q.name() + "/groups").get("groups")).hasSize(1);

                JsonNode purgeDry = client.postJson("/api/queues/" + q.name() + "/purge",
                        "{\"filter\":{\"key\":\"user:1\"},\"dryRun\":true}");
                assertThat(purgeDry.get("selected").asLong()).isEqualTo(8); // i%10==1 and i%3!=0 of 0..119
                JsonNode purged = client.postJson("/api/queues/" + q.name() + "/purge",
                        "{\"filter\":{\"key\":\"user:1\"},\"dryRun\":false}");
                assertThat(purged.get("purged").asLong()).isEqualTo(8);
                ConsoleFixture.awaitDepth(raw, q.deadQueue(), 72);
            }
        }
    }

    @Test
    void aChangeWithoutTheTokenOrFromAnotherOriginIsRefusedAndChangesNothing(TestBroker broker, TestQueues queues)
            throws Exception {
        try (Connection raw = broker.connect("console-api-it-guard")) {
            QueueSpec q = ConsoleFixture.declare(raw, queues, "guard");
            ConsoleFixture.publish(raw, q.name(), 10, i -> ConsoleFixture.props(q.name(), "g-" + i, "t", "k", IO,
                    Instant.now()), i -> ConsoleFixture.json("{}"));
            try (Console console = ConsoleFixture.start(broker, "console-api-it-guard-console", List.of(q))) {
                ConsoleFixture.Client client = new ConsoleFixture.Client(console);
                String replay = "/api/queues/" + q.name() + "/replay";
                String purge = "/api/queues/" + q.name() + "/purge";
                String body = "{\"dryRun\":false}";
                Map<String, String> json = Map.of("Content-Type", "application/json");
                assertThat(client.post(replay, body, json).statusCode()).isEqualTo(403);
                assertThat(client.post(purge, body, json).statusCode()).isEqualTo(403);
                assertThat(client.post(purge, body, Map.of("Content-Type", "application/json",
                        RequestGuard.TOKEN_HEADER, "wrong-token-123")).statusCode()).isEqualTo(403);
                assertThat(client.post(purge, body, Map.of("Content-Type", "application/json",
                        RequestGuard.TOKEN_HEADER, ConsoleFixture.TOKEN, "Origin", "http://evil.example"))
                        .statusCode()).isEqualTo(403);
                assertThat(client.post(purge, body, Map.of("Content-Type", "text/plain",
                        RequestGuard.TOKEN_HEADER, ConsoleFixture.TOKEN)).statusCode()).isEqualTo(415);
                assertThat(client.post(purge, "{\"filter\":{}}", Map.of("Content-Type", "application/json",
                        RequestGuard.TOKEN_HEADER, ConsoleFixture.TOKEN)).statusCode()).isEqualTo(400);
                HttpResponse<String> big = client.post(purge, "{\"x\":\"" + "a".repeat(70_000) + "\"}",
                        Map.of("Content-Type", "application/json", RequestGuard.TOKEN_HEADER, ConsoleFixture.TOKEN));
                assertThat(big.statusCode()).isEqualTo(413);
                ConsoleFixture.awaitDepth(raw, q.deadQueue(), 10);
                assertThat(depth(raw, q.name())).isZero();

                HttpResponse<String> page = client.get("/");
                assertThat(page.statusCode()).isEqualTo(200);
                assertThat(page.headers().firstValue("Content-Security-Policy").orElse(""))
                        .contains("script-src 'self'");
                assertThat(client.get("/?token=wrong-token-123").statusCode()).isEqualTo(403);
                HttpResponse<String> login = client.get("/?token=" + ConsoleFixture.TOKEN);
                assertThat(login.statusCode()).isEqualTo(303);
                assertThat(login.headers().firstValue("Set-Cookie").orElse("")).contains("SameSite=Strict");
                assertThat(client.get("/api/queues/not-configured/dead").statusCode()).isEqualTo(404);
                assertThat(client.get("/api/queues/" + q.name() + "/dead?page=x").statusCode()).isEqualTo(400);
            }
        }
    }
}
