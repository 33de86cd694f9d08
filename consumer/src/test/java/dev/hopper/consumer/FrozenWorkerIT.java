package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17 finding 10: a worker frozen (SIGSTOP) past its heartbeat, so that the broker closed its connection and
 * requeued what it held, and resumed (SIGCONT) after another worker completed those tasks, must not start a handler
 * for any delivery of the dead connection. Before the fix, the prefetched deliveries ran after automatic recovery
 * reopened the channel object (with a new delegate), a second time.
 */
@ExtendWith(TestQueues.class)
class FrozenWorkerIT {

    @Test
    void aResumedWorkerStartsNothingFromItsDeadConnection(TestBroker broker, TestQueues queues, @TempDir Path dir)
            throws Exception {
        String queue = queues.name("frozen");
        String yaml = "queues:\n  " + queue + ":\n    tiers: [1s]\n    concurrency: 1\n    prefetch: 4\n"
                + "    poison-after: 20\n    delivery-limit: 30\n";
        HopperConfig config = HopperConfig.parse(yaml);
        QueueSpec spec = queues.track(config.requireQueue(queue));
        try (TestTasks tasks = new TestTasks(broker, "frozen-it-publisher");
                WorkerProcesses workers = new WorkerProcesses(dir, yaml)) {
            tasks.declare(config);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ids.add(tasks.publish(queue, "sleep", "{\"ms\":3000,\"halt\":false}"));
            }
            Process frozen = workers.startWithHeartbeat(broker, queue, Duration.ofSeconds(1));
            await().atMost(Duration.ofSeconds(60)).until(() -> workers.count("start").size() == 1);
            signal(frozen, "-STOP");
            try {
                // The broker misses the heartbeats, closes the connection and requeues all four.
                await().atMost(Duration.ofSeconds(60)).until(() -> tasks.depth(queue) == 4);
                workers.start(broker, queue);
                await().atMost(Duration.ofSeconds(90)).until(() -> workers.count("done").keySet().containsAll(ids));
            } finally {
                signal(frozen, "-CONT");
            }
            // Resumed: its running handler finishes (its ack fails); the three prefetched deliveries never start.
            await().atMost(Duration.ofSeconds(60)).until(() -> workers.output(0)
                    .split("delivery's channel closed before it started", -1).length - 1 >= 3);
            Map<String, Integer> starts = workers.count("start");
            String runningWhenFrozen = workers.lines().stream().filter(l -> l.startsWith("start ")).findFirst()
                    .orElseThrow().substring("start ".length());
            for (String id : ids) {
                assertThat(starts.get(id)).as("starts of %s", id).isEqualTo(id.equals(runningWhenFrozen) ? 2 : 1);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(queue) == 0);
            assertThat(tasks.depth(spec.deadQueue())).isZero();
        }
    }

    private static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", signal, Long.toString(p.pid())).inheritIO().start();
        assertThat(kill.waitFor()).as("kill %s %d", signal, p.pid()).isZero();
    }
}
