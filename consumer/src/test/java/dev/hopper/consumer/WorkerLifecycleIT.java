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

    /**
     * The store is asked once as the worker starts, before any task arrives, so a store that connects lazily
     * (Redis) is connected when the first keyed task comes instead of making it wait.
     */
    @Test
    void startWarmsTheCoordinationStoreBeforeAnyTask(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("warm")).build());
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        ForwardingStore recording = new ForwardingStore(new dev.hopper.coordination.InMemoryCoordinationStore()) {
            @Override
            public boolean isCompleted(String messageId) {
                asked.add(messageId);
                return super.isCompleted(messageId);
            }
        };
        try (Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).build())
                .config(HopperConfig.of(List.of(spec))).coordinationStore(recording)
                .handler("job", Job.class, (j, c) -> { }).build()) {
            assertThat(asked).as("nothing asked before start").isEmpty();
            w.start();
            // No task was published to the queue: the only call can be the warm-up.
            await().atMost(Duration.ofSeconds(30)).until(() -> !asked.isEmpty());
        }
    }
}
