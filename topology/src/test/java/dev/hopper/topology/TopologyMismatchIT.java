package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestQueues.class)
class TopologyMismatchIT {

    @Test
    void conflictingQueuesAreReportedArgumentByArgumentAndNothingIsDeleted(TestBroker broker, TestQueues queues)
            throws Exception {
        DelayTier tier = DelayTier.parse("1s");
        QueueSpec q = queues.track(QueueSpec.builder(queues.name("conflict")).tiers(List.of(tier)).build());
        Topology topology = new Topology(HopperConfig.of(List.of(q)));

        try (Connection c = broker.connect("topology-mismatch-it")) {
            Channel ch = c.createChannel();
            // The work queue exists as a classic queue holding a message; the tier has another TTL.
            ch.queueDeclare(q.name(), true, false, false, Map.of());
            ch.basicPublish("", q.name(), new AMQP.BasicProperties(), "keep me".getBytes());
            ch.queueDeclare(q.retryQueue(tier), true, false, false, Map.of("x-queue-type", "quorum",
                    "x-message-ttl", 5000, "x-dead-letter-exchange", QueueNames.TASKS_EXCHANGE,
                    "x-dead-letter-routing-key", q.name(), "x-dead-letter-strategy", "at-least-once",
                    "x-overflow", "reject-publish"));

            VerificationReport report = topology.verify(c);
            assertThat(report.ok()).isFalse();
            assertThat(report.problems()).extracting(VerificationReport.Problem::describe).contains(
                    "queue '" + q.name() + "': x-queue-type is not set, expected quorum",
                    "queue '" + q.name() + "': x-dead-letter-exchange is not set, expected hopper.dead",
                    "queue '" + q.name() + "': x-overflow is not set, expected reject-publish",
                    "queue '" + q.retryQueue(tier) + "': x-message-ttl is 5000, expected 1000");
            // verify created nothing: the dead queue is reported missing and still is.
            assertThat(report.problems()).extracting(VerificationReport.Problem::describe)
                    .contains("queue '" + q.deadQueue() + "' is missing");

            assertThatThrownBy(() -> topology.declare(c))
                    .isInstanceOf(TopologyMismatchException.class)
                    .hasMessageContaining("queue '" + q.name() + "': x-queue-type is not set, expected quorum")
                    .hasMessageContaining("x-message-ttl is 5000, expected 1000")
                    .hasMessageContaining("nothing was changed or deleted");

            // Nothing deleted or altered: the classic queue still has its message, the tier its TTL.
            Channel check = c.createChannel();
            assertThat(check.queueDeclarePassive(q.name()).getMessageCount()).isEqualTo(1);
            check.queueDeclare(q.name(), true, false, false, Map.of("x-queue-type", "classic"));
            check.queueDeclare(q.retryQueue(tier), true, false, false, Map.of("x-queue-type", "quorum",
                    "x-message-ttl", 5000, "x-dead-letter-exchange", QueueNames.TASKS_EXCHANGE,
                    "x-dead-letter-routing-key", q.name(), "x-dead-letter-strategy", "at-least-once",
                    "x-overflow", "reject-publish"));
            check.close();
            // A refused declare creates nothing either (its message says nothing was changed).
            Channel passive = c.createChannel();
            assertThatThrownBy(() -> passive.queueDeclarePassive(q.deadQueue())).isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void verifyFindsADeadQueueDeclaredWithoutItsRetentionAndDeclareKeepsItsLetters(TestBroker broker,
            TestQueues queues) throws Exception {
        QueueSpec before = queues.track(QueueSpec.builder(queues.name("retention"))
                .tiers(List.of(DelayTier.parse("1s"))).build());
        QueueSpec after = before.toBuilder().deadRetention(java.time.Duration.ofDays(7)).build();
        try (Connection c = broker.connect("topology-retention-it")) {
            new Topology(HopperConfig.of(List.of(before))).declare(c);
            Channel ch = c.createChannel();
            ch.confirmSelect();
            ch.basicPublish("", before.deadQueue(), new AMQP.BasicProperties(), "dead".getBytes());
            ch.waitForConfirmsOrDie(10_000);

            VerificationReport report = new Topology(HopperConfig.of(List.of(after))).verify(c);
            assertThat(report.problems()).extracting(VerificationReport.Problem::describe).containsExactly(
                    "queue '" + before.deadQueue() + "': x-message-ttl is not set, expected 604800000");
            assertThatThrownBy(() -> new Topology(HopperConfig.of(List.of(after))).declare(c))
                    .isInstanceOf(TopologyMismatchException.class).hasMessageContaining("x-message-ttl");
            Channel check = c.createChannel();
            assertThat(check.queueDeclarePassive(before.deadQueue()).getMessageCount()).isEqualTo(1);
            check.close();
        }
    }
}
