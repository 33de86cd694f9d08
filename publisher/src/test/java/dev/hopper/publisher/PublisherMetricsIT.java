package dev.hopper.publisher;

import static dev.hopper.publisher.BrokerFixture.config;
import static dev.hopper.publisher.BrokerFixture.declareQueue;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.topology.QueueNames;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestQueues.class)
class PublisherMetricsIT {

    @Test
    void countsConfirmedNackedReturnedAndFailedPublishes(TestBroker broker, TestQueues queues) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, new MockClock());
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "metrics"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).meterRegistry(registry).build()) {
            String queue = declareQueue(queues, conn, "published");
            String tiny = queues.name("tiny");
            var ch = conn.amqp().createChannel();
            ch.queueDeclare(tiny, false, false, false, Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
            ch.queueBind(tiny, QueueNames.TASKS_EXCHANGE, tiny);
            ch.close();
            queues.trackQueue(tiny);

            for (int i = 0; i < 3; i++) {
                publisher.publish(publisher.newTask().queue(queue).type("resize").payload(i).build());
            }
            publisher.publish(publisher.newTask().queue(tiny).type("resize").payload(1).build());
            assertThatThrownBy(() -> publisher.publish(publisher.newTask().queue(tiny).type("resize").payload(2)
                    .build())).isInstanceOf(PublishException.class);
            assertThatThrownBy(() -> publisher.publish(publisher.newTask().queue(queues.name("missing"))
                    .type("resize").payload(3).build())).isInstanceOf(PublishException.class);
        }
        assertThat(count(registry, "resize", "confirmed")).isEqualTo(4);
        assertThat(count(registry, "resize", "nacked")).isEqualTo(1);
        assertThat(count(registry, "resize", "returned")).isEqualTo(1);
        assertThat(registry.find(PublisherMetrics.PUBLISHED).tag("outcome", "failed").counters()).isEmpty();
    }

    @Test
    void outcomeOfEachFailure() {
        assertThat(PublisherMetrics.outcomeOf(null)).isEqualTo("confirmed");
        assertThat(PublisherMetrics.outcomeOf(new PublishException(PublishException.Reason.TIMEOUT, "t")))
                .isEqualTo("failed");
        assertThat(PublisherMetrics.outcomeOf(new java.util.concurrent.CompletionException(
                new PublishException(PublishException.Reason.NACKED, "n")))).isEqualTo("nacked");
        assertThat(PublisherMetrics.outcomeOf(new IllegalStateException())).isEqualTo("failed");
    }

    private static double count(SimpleMeterRegistry registry, String type, String outcome) {
        return registry.find(PublisherMetrics.PUBLISHED).tag("type", type).tag("outcome", outcome).counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }
}
