package dev.hopper.ops.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Connection;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * 100,000 dead letters, more than one channel can hold (65,535): the index holds the first 65,535 in queue order (and
 * says it is partial), the queue keeps its order across reads, pages, filters and groups are served from the index,
 * and the overview counts all 100,000. Prints the measured answer times (asserting behaviour only).
 */
@ExtendWith(TestQueues.class)
@Timeout(600)
class ConsoleScaleIT {
    static final int N = 100_000;
    static final int W = DeadQueueReader.WINDOW;
    static final ConsoleFixture.Failure[] FAILURES = {
        new ConsoleFixture.Failure("exhausted", "java.io.IOException", "com.acme.Upload.send(Upload.java:42)"),
        new ConsoleFixture.Failure("permanent", "java.lang.NullPointerException", "com.acme.Resize.run(Resize.java:7)"),
        new ConsoleFixture.Failure("exhausted", "java.net.SocketTimeoutException", "com.acme.Http.get(Http.java:88)"),
        new ConsoleFixture.Failure("poison", "java.lang.OutOfMemoryError", "com.acme.Big.load(Big.java:3)"),
    };

    @Test
    void aHundredThousandDeadLettersAreServedFromAnIndexOfTheFirstWindow(TestBroker broker, TestQueues queues)
            throws Exception {
        try (Connection raw = broker.connect("console-scale-it")) {
            QueueSpec q = ConsoleFixture.declare(raw, queues, "scale");
            Instant now = Instant.now();
            long t0 = System.nanoTime();
            ConsoleFixture.publish(raw, q.name(), N, i -> ConsoleFixture.props(q.name(), "s-" + i,
                    i % 2 == 0 ? "upload" : "resize", "user:" + (i % 5000), FAILURES[i % 4],
                    now.minusSeconds(i % 7200)), i -> ConsoleFixture.json("{\"n\":" + i + ",\"file\":\"f" + i
                    + ".png\",\"pad\":\"" + "x".repeat(200) + "\"}"));
            long publishMs = ms(t0);
            try (Console console = Console.start(ConsoleSettings.builder(BrokerConfig.builder(broker.uri())
                                    .connectionName("console-scale-it-console").build(),
                            HopperConfig.of(List.of(q)), ConsoleFixture.TOKEN)
                    .address(new InetSocketAddress("127.0.0.1", 0)).refreshEvery(Duration.ofHours(1))
                    .idleTimeout(Duration.ofSeconds(5)).operator("tester@test/console").build())) {
                t0 = System.nanoTime();
                await().atMost(Duration.ofSeconds(300)).until(() -> console.indexedLetters(q.name()) == W);
                long indexMs = ms(t0);
                ConsoleFixture.Client client = new ConsoleFixture.Client(console);
                String api = "/api/queues/" + q.name();
                List<String> report = new ArrayList<>();
                report.add("publish " + N + " dead letters: " + publishMs + " ms");
                report.add("first index read (" + W + " of " + N + "): " + indexMs + " ms (to observed)");

                JsonNode first = timed(report, client, api + "/dead?page=1"); // the first request: cold JVM
                first = timed(report, client, api + "/dead?page=1");
                assertThat(first.get("matched").asInt()).isEqualTo(W);
                assertThat(first.get("index").get("complete").asBoolean()).isFalse();
                assertThat(first.get("index").get("depth").asLong()).isEqualTo(N);
                assertThat(first.get("letters").get(0).get("id").asText()).isEqualTo("s-0");
                // A letter deep in the queue, not on any page viewed: read from the queue on demand.
                JsonNode deep = timed(report, client, api + "/dead/s-60000");
                assertThat(deep.get("position").asInt()).isEqualTo(60_000);
                JsonNode deepAgain = timed(report, client, api + "/dead/s-60000");
                assertThat(deepAgain.get("id").asText()).isEqualTo("s-60000");
                JsonNode last = timed(report, client, api + "/dead?page=1311");
                assertThat(last.get("letters")).hasSize(35);
                assertThat(last.get("letters").get(34).get("id").asText()).isEqualTo("s-65534");
                JsonNode byClass = timed(report, client, api + "/dead?errorClass=SocketTimeoutException&page=3");
                assertThat(byClass.get("matched").asInt()).isEqualTo(16_384);
                JsonNode byKey = timed(report, client, api + "/dead?key=user:42");
                assertThat(byKey.get("matched").asInt()).isEqualTo(14);
                JsonNode combined = timed(report, client, api + "/dead?reason=exhausted&type=upload&olderThan=1h");
                assertThat(combined.get("matched").asInt()).isPositive();
                JsonNode groups = timed(report, client, api + "/groups");
                assertThat(groups.get("groups")).hasSize(4);
                assertThat(groups.get("groups").get(0).get("count").asLong()).isEqualTo(16_384);
                JsonNode overview = timed(report, client, "/api/queues");
                assertThat(overview.get("queues").get(0).get("dead").asLong()).isEqualTo(N);
                JsonNode cached = timed(report, client, api + "/dead/s-7");
                assertThat(cached.get("id").asText()).isEqualTo("s-7");
                // A page deep in the queue: its letters are fetched in the background, then open at once.
                timed(report, client, api + "/dead?page=1100");
                t0 = System.nanoTime();
                await().atMost(Duration.ofSeconds(120)).until(() -> console.cached(q.name(), "s-54999"));
                report.add("background prefetch of page 1100's letters: " + ms(t0) + " ms after the page");
                JsonNode prefetched = timed(report, client, api + "/dead/s-54999");
                assertThat(prefetched.get("position").asInt()).isEqualTo(54_999);

                // A second read sees the same order: the window went back at the head.
                t0 = System.nanoTime();
                JsonNode refreshed = client.postJson(api + "/refresh", "{}");
                report.add("POST /refresh (re-read of " + W + "): " + ms(t0) + " ms");
                assertThat(refreshed.get("indexed").asInt()).isEqualTo(W);
                JsonNode again = client.getJson(api + "/dead?page=1000");
                assertThat(again.get("letters").get(0).get("id").asText()).isEqualTo("s-" + (999 * 50));
                assertThat(again.get("letters").get(0).get("position").asInt()).isEqualTo(999 * 50);
                // Viewing page 1000 starts a background read of its letters: the queue is whole again once it ends.
                await().atMost(Duration.ofSeconds(60)).until(() -> ConsoleFixture.depth(raw, q.deadQueue()) == N);

                // Right after a re-read (the broker is still taking 100,000 letters back), the shared replay code
                // must still see every letter: a dry run of one group through DeadLetterReplayer.
                t0 = System.nanoTime();
                JsonNode dry = client.postJson(api + "/replay", "{\"group\":\""
                        + groups.get("groups").get(0).get("id").asText() + "\",\"dryRun\":true}");
                report.add("POST /replay dry run of a group (" + dry.get("selected") + " of " + dry.get("depth")
                        + ", scanned " + dry.get("scanned") + "): " + ms(t0) + " ms");
                assertThat(dry.get("scanned").asLong()).isPositive();
                assertThat(dry.get("selected").asLong()).isPositive();

                try (Chromium chromium = Chromium.start()) {
                    ChromeDriver d = chromium.driver();
                    WebDriverWait wait = new WebDriverWait(d, Duration.ofSeconds(30));
                    String base = client.base();
                    d.get(base + "/?token=" + ConsoleFixture.TOKEN);
                    wait.until(ExpectedConditions.presenceOfElementLocated(By.id("queues")));
                    for (String page : List.of("", "?errorClass=NullPointerException&page=300", "?key=user:42")) {
                        d.get(base + "/#/");
                        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("queues")));
                        t0 = System.nanoTime();
                        d.get(base + "/#/q/" + q.name() + page);
                        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#letters tbody tr")));
                        report.add("browser: queue page " + (page.isEmpty() ? "(all)" : page) + " rendered in "
                                + ms(t0) + " ms");
                    }
                }
                System.err.println("measurements:");
                report.forEach(line -> System.err.println("  " + line));
            }
            // After every read the console made, the dead queue is still in its original order.
            List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
            com.rabbitmq.client.Channel ch = raw.createChannel();
            ch.basicQos(2000);
            ch.basicConsume(q.deadQueue(), true, (tag, d) -> ids.add(d.getProperties().getMessageId()), tag -> { });
            await().atMost(Duration.ofSeconds(120)).until(() -> ids.size() >= N);
            ch.close();
            for (int i = 0; i < N; i++) {
                assertThat(ids.get(i)).isEqualTo("s-" + i);
            }
        }
    }

    private static JsonNode timed(List<String> report, ConsoleFixture.Client client, String path) throws Exception {
        long t0 = System.nanoTime();
        JsonNode n = client.getJson(path);
        report.add("GET " + path.replaceAll("/api/queues/[^/]+", "/api/queues/Q") + ": " + ms(t0) + " ms");
        System.err.println("measurement: " + report.get(report.size() - 1));
        return n;
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
