package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A burst of tasks for one key (issue 18: "100 tasks for one key, 50 ms handlers, 2 workers"): two worker JVMs with
 * the Redis store take turns on the key without sending any task back through a delay tier — a worker's later
 * tasks for the key wait in its lane, the other worker's waiter waits in hand while the lock changes hands — and
 * the key's runs never overlap. How long the burst takes is a benchmark (docs/benchmarks.md), not asserted here.
 */
@ExtendWith(TestQueues.class)
class ContendedKeyIT {

    @Test
    void aBurstForOneKeyRunsOneAtATimeWithoutGoingBackThroughATier(TestBroker broker, TestQueues queues,
            @TempDir Path dir) throws Exception {
        String queue = queues.name("hot-key");
        String yaml = "queues:\n  " + queue + ":\n    tiers: [5s, 30s]\n    concurrency: 4\n    prefetch: 16\n"
                + "    lock: {lease: 30s, max-waits: 100}\n";
        HopperConfig config = HopperConfig.parse(yaml);
        queues.track(config.requireQueue(queue));
        String namespace = "hopper-it:" + UUID.randomUUID() + ":";
        String redis = TestRedis.get().uri().toString();
        try (TestTasks tasks = new TestTasks(broker, "hot-key-publisher");
                WorkerProcesses workers = new WorkerProcesses(dir, yaml)) {
            tasks.declare(config);
            workers.start(broker, queue, redis, namespace);
            workers.start(broker, queue, redis, namespace);
            await().atMost(Duration.ofSeconds(60)).until(() -> workers.readyCount() == 2);
            Set<String> ids = new LinkedHashSet<>();
            for (int i = 0; i < 100; i++) {
                ids.add(tasks.publish(queue, "span", "{\"ms\":50,\"halt\":false}", "commit:1", null));
            }

            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250))
                    .until(() -> workers.spans().size() >= ids.size());

            List<WorkerProcesses.Span> spans = workers.spans();
            assertThat(spans).extracting(WorkerProcesses.Span::id).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(spans).as("no task went back through a tier as lock-busy").allSatisfy(
                    s -> assertThat(s.lockWaits()).isZero());
            assertThat(spans).extracting(WorkerProcesses.Span::key).containsOnly("commit:1");
            WorkerProcesses.assertOneAtATime(spans);
            spans.sort(Comparator.comparingLong(WorkerProcesses.Span::start));
            System.out.printf("ContendedKeyIT: 100 tasks for one key, 50 ms each, 2 workers: first start to last end "
                    + "%d ms (serial time 5000 ms)%n", (spans.get(spans.size() - 1).end() - spans.get(0).start()) / 1000);
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(queue) == 0);
        }
    }
}
