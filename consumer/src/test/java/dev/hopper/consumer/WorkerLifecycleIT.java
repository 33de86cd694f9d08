package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestQueues.class)
class WorkerLifecycleIT {

    record Job(int n) {}

    /** A start that fails partway (the second queue was never declared) leaves no thread and no connection. */
    @Test
    void aFailedStartClosesEverythingItOpened(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec declared = queues.track(TestTasks.quickQueue(queues.name("declared")).build());
        QueueSpec missing = TestTasks.quickQueue(queues.name("missing")).build();
        String name = "failed-start-" + UUID.randomUUID();
        try (TestTasks tasks = new TestTasks(broker, "failed-start-publisher")) {
            tasks.declare(HopperConfig.of(List.of(declared)));
            Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName(name).build())
                    .workerId(name).declareTopology(false) // so that the start fails on the undeclared queue
                    .config(HopperConfig.of(List.of(declared, missing))).handler("job", Job.class, (j, c) -> { })
                    .build();

            assertThatThrownBy(w::start).isInstanceOf(HopperException.class).hasMessageContaining(missing.name())
                    .hasMessageContaining("hopper topology declare");

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(broker.connectionPids(name, true)).as("connections of the failed worker").isEmpty();
                assertThat(Thread.getAllStackTraces().keySet()).as("threads of the failed worker")
                        .noneMatch(t -> t.isAlive() && (t.getName().contains(name)
                                || t.getName().contains(declared.name()) || t.getName().contains(missing.name())));
            });
            assertThat(w.isHealthy()).isFalse();
            w.close(); // still idempotent after a failed start
        }
    }
}
