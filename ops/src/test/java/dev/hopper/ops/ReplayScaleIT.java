package dev.hopper.ops;

import static dev.hopper.ops.DeadLetterFixture.consumeAllIds;
import static dev.hopper.ops.DeadLetterFixture.depth;
import static dev.hopper.ops.DeadLetterFixture.headers;
import static dev.hopper.ops.DeadLetterFixture.props;
import static dev.hopper.ops.DeadLetterFixture.publish;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Replay at scale through the packaged jar: 10,000 dead letters, a filter matching half. Exactly the matching
 * half ends in the work queue, the other half stays in the dead queue in its original order, nothing is lost or
 * duplicated (counted by message id), and a dry run changes nothing.
 */
@ExtendWith(TestQueues.class)
class ReplayScaleIT {
    static final int N = 10_000;

    @Test
    void replaysExactlyTheMatchingHalfOfTenThousand(TestBroker broker, TestQueues queues) throws Exception {
        try (Connection raw = broker.connect("replay-scale-it")) {
            QueueSpec q = DeadLetterFixture.declare(raw, queues, "scale");
            Instant now = Instant.now();
            List<String> all = publish(raw, q.name(), N, "s", i -> props("s-" + i, i % 2 == 0 ? "even" : "odd",
                    headers(q.name(), "exhausted", "java.io.IOException", "com.acme.A.run(A.java:1)", now)));
            List<String> even = IntStream.range(0, N).filter(i -> i % 2 == 0).mapToObj(all::get).toList();
            List<String> odd = IntStream.range(0, N).filter(i -> i % 2 == 1).mapToObj(all::get).toList();

            long t0 = System.nanoTime();
            HopperJar.Result dry = HopperJar.run("--json", "dlq", "replay", "--queue", q.name(), "--type", "even",
                    "--dry-run");
            long dryMillis = (System.nanoTime() - t0) / 1_000_000;
            assertThat(dry.exitCode()).as(dry.err()).isZero();
            List<String> lines = dry.outLines();
            assertThat(lines).hasSize(N / 2 + 1);
            ObjectMapper json = new ObjectMapper();
            assertThat(json.readTree(lines.get(0)).get("destination").asText()).isEqualTo(q.name());
            JsonNode summary = json.readTree(lines.get(lines.size() - 1));
            assertThat(summary.get("dry_run").asBoolean()).isTrue();
            assertThat(summary.get("selected").asLong()).isEqualTo(N / 2);
            assertThat(summary.get("replayed").asLong()).isZero();
            assertThat(depth(raw, q.name())).isZero();
            assertThat(depth(raw, q.deadQueue())).isEqualTo(N);

            t0 = System.nanoTime();
            HopperJar.Result replay = HopperJar.run("dlq", "replay", "--queue", q.name(), "--type", "even");
            long replayMillis = (System.nanoTime() - t0) / 1_000_000;
            assertThat(replay.exitCode()).as(replay.toString()).isZero();
            assertThat(replay.out()).contains("replayed " + N / 2 + " of " + N);

            List<String> work = consumeAllIds(raw, q.name());
            List<String> dead = consumeAllIds(raw, q.deadQueue());
            assertThat(new HashSet<>(work)).hasSize(work.size()); // no duplicates
            assertThat(work).containsExactlyElementsOf(even);
            assertThat(dead).containsExactlyElementsOf(odd); // the rest, in original order
            assertThat(depth(raw, q.name())).isZero();
            assertThat(depth(raw, q.deadQueue())).isZero();
            System.err.printf("measurement: dry run of %d/%d took %d ms, replay of %d/%d took %d ms (process "
                    + "wall time incl. JVM start)%n", N / 2, N, dryMillis, N / 2, N, replayMillis);
        }
    }
}
