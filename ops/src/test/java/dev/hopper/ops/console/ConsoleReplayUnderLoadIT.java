package dev.hopper.ops.console;

import static dev.hopper.ops.console.ConsoleFixture.depth;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Connection;
import dev.hopper.consumer.Worker;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * 5,000 dead letters replayed from the console while a worker consumes the work queue: every task runs (none
 * lost), the dead queue ends empty, and the same audit line as {@code hopper dlq replay} is written.
 */
@ExtendWith(TestQueues.class)
@Timeout(300)
class ConsoleReplayUnderLoadIT {
    static final int N = 5_000;

    @Test
    void replaysFiveThousandWhileAWorkerConsumesAndLosesNothing(TestBroker broker, TestQueues queues)
            throws Exception {
        Logger audit = (Logger) LoggerFactory.getLogger("hopper.audit");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        audit.addAppender(lines);
        try (Connection raw = broker.connect("console-load-it")) {
            QueueSpec q = ConsoleFixture.declare(raw, queues, "load");
            ConsoleFixture.Failure f = new ConsoleFixture.Failure("exhausted", "java.io.IOException",
                    "com.acme.Job.run(Job.java:1)");
            Instant now = Instant.now();
            ConsoleFixture.publish(raw, q.name(), N, i -> ConsoleFixture.props(q.name(), "load-" + i, "job",
                    "k-" + i, f, now), i -> ConsoleFixture.json("{\"n\":" + i + "}"));

            Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
            try (Worker worker = Worker.builder()
                            .broker(BrokerConfig.builder(broker.uri()).connectionName("console-load-it-worker").build())
                            .config(HopperConfig.of(List.of(q)))
                            .handler("job", JsonNode.class, (payload, ctx) ->
                                    runs.computeIfAbsent(ctx.messageId(), id -> new AtomicInteger()).incrementAndGet())
                            .build();
                    Console console = ConsoleFixture.start(broker, "console-load-it-console", List.of(q))) {
                worker.start();
                ConsoleFixture.Client client = new ConsoleFixture.Client(console);
                await().atMost(Duration.ofSeconds(60)).until(() -> console.indexedLetters(q.name()) == N);

                JsonNode dry = client.postJson("/api/queues/" + q.name() + "/replay", "{\"filter\":{},\"dryRun\":true}");
                assertThat(dry.get("selected").asLong()).isEqualTo(N);
                assertThat(runs).isEmpty();

                JsonNode done = client.postJson("/api/queues/" + q.name() + "/replay",
                        "{\"filter\":{},\"dryRun\":false}");
                assertThat(done.get("replayed").asLong()).isEqualTo(N);
                assertThat(done.get("failed").asLong()).isZero();

                Set<String> expected = IntStream.range(0, N).mapToObj(i -> "load-" + i).collect(Collectors.toSet());
                await().atMost(Duration.ofSeconds(120)).untilAsserted(() ->
                        assertThat(runs.keySet()).containsExactlyInAnyOrderElementsOf(expected));
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    assertThat(depth(raw, q.name())).isZero();
                    assertThat(depth(raw, q.deadQueue())).isZero();
                });
                long duplicates = runs.values().stream().filter(n -> n.get() > 1).count();
                assertThat(duplicates).as("tasks run twice (no crash happened)").isZero();
            }
            List<String> audited = lines.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.contains("queue=" + q.name())).toList();
            assertThat(audited).anySatisfy(m -> assertThat(m)
                    .startsWith("dlq replay by=tester@test/console queue=" + q.name())
                    .contains("dry_run=false").contains("selected=" + N).contains("replayed=" + N)
                    .contains("failed=0"));
        } finally {
            audit.detachAppender(lines);
        }
    }
}
