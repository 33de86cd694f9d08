package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A publisher that lost a confirm sends the task again under the same message id (hopper publish --resume); the
 * copy reaches a worker as a fresh delivery, not a redelivery. With done-markers on, it must not run again.
 */
@ExtendWith(TestQueues.class)
@Timeout(120)
class ResentTaskIT {

    record Job(int n) {}

    @Test
    void aCopySentAgainUnderTheSameIdRunsOnceWithDoneMarkers(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("resent")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        List<String> runs = new CopyOnWriteArrayList<>();
        try (TestTasks tasks = new TestTasks(broker, "resent-it-publisher");
                Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("resent-it")
                                .build())
                        .config(config).drainTimeout(Duration.ofSeconds(10)).markUnkeyedDone(true)
                        .handler("job", Job.class, (job, ctx) -> runs.add(ctx.messageId())).build()) {
            tasks.declare(config);
            w.start();
            String id = UUID.randomUUID().toString();
            TaskEnvelope e = TaskEnvelope.fresh(id, "job", null, null, Instant.now(),
                    "{\"n\":1}".getBytes(StandardCharsets.UTF_8));
            tasks.publishRaw(spec.name(), EnvelopeCodec.properties(e), e.body());
            await().atMost(Duration.ofSeconds(30)).until(() -> runs.size() == 1 && w.inFlight() == 0);
            // The resent copy: same id, a fresh message (redelivered=false, no x-delivery-count).
            tasks.publishRaw(spec.name(), EnvelopeCodec.properties(e), e.body());
            String other = tasks.publish(spec.name(), "job", "{\"n\":2}");
            await().atMost(Duration.ofSeconds(30)).until(() -> runs.contains(other) && w.inFlight() == 0
                    && tasks.depth(spec.name()) == 0);
            assertThat(runs).containsExactlyInAnyOrder(id, other);
        }
    }
}
