package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Issue 17 finding 13: a refused declaration creates nothing and lists only real differences. */
@ExtendWith(TestQueues.class)
@Timeout(120)
class TopologyRefusalIT {

    private static boolean exists(Connection c, String queue) throws Exception {
        try (Channel ch = c.createChannel()) {
            ch.queueDeclarePassive(queue);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aDeclarationRefusedForOneQueueCreatesNoOtherQueue(TestBroker broker, TestQueues queues) throws Exception {
        DelayTier tier = DelayTier.parse("1s");
        QueueSpec q = queues.track(QueueSpec.builder(queues.name("refused")).tiers(List.of(tier)).build());
        Topology topology = new Topology(HopperConfig.of(List.of(q)));
        try (Connection c = broker.connect("topology-refusal-it")) {
            try (Channel ch = c.createChannel()) {
                ch.queueDeclare(q.name(), true, false, false, Map.of()); // a classic queue: refused
            }
            assertThatThrownBy(() -> topology.declare(c)).isInstanceOf(TopologyMismatchException.class)
                    .hasMessageContaining("nothing was changed or deleted");
            assertThat(exists(c, q.retryQueue(tier))).as("tier queue created by a refused declare").isFalse();
            assertThat(exists(c, q.deadQueue())).as("dead queue created by a refused declare").isFalse();
        }
    }

    @Test
    void aMismatchListsOnlyArgumentsThatDifferFromTheConfiguration(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec q = queues.track(QueueSpec.builder(queues.name("listing")).deliveryLimit(20).build());
        Topology topology = new Topology(HopperConfig.of(List.of(q)));
        try (Connection c = broker.connect("topology-refusal-it")) {
            Map<String, Object> other = new LinkedHashMap<>(Topology.workQueueArguments(q));
            other.put("x-overflow", "drop-head"); // a real difference
            other.put("x-delivery-limit", 10); // another real one, which the broker then refuses as its own value
            try (Channel ch = c.createChannel()) {
                ch.queueDeclare(q.name(), true, false, false, other);
            }
            VerificationReport report = topology.verify(c);
            List<String> described = report.problems().stream().map(VerificationReport.Problem::describe).toList();
            assertThat(described).contains("queue '" + q.name() + "': x-overflow is drop-head, expected reject-publish",
                    "queue '" + q.name() + "': x-delivery-limit is 10, expected 20");
            assertThat(described).filteredOn(d -> d.contains("x-delivery-limit")).hasSize(1);
            assertThat(report.problems()).filteredOn(p -> !p.missing())
                    .allSatisfy(p -> assertThat(p.actual()).as(p.describe()).isNotEqualTo(p.expected()));
        }
    }

    @Test
    void aTypeOnlyDifferenceNamesBothTypes(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec q = queues.track(QueueSpec.builder(queues.name("typed")).deliveryLimit(20).build());
        Topology topology = new Topology(HopperConfig.of(List.of(q)));
        try (Connection c = broker.connect("topology-refusal-it")) {
            Map<String, Object> other = new LinkedHashMap<>(Topology.workQueueArguments(q));
            other.put("x-delivery-limit", "20"); // a string, as a hand-written policy or script might
            try (Channel ch = c.createChannel()) {
                ch.queueDeclare(q.name(), true, false, false, other);
            }
            assertThat(topology.verify(c).problems()).extracting(VerificationReport.Problem::describe)
                    .contains("queue '" + q.name() + "': x-delivery-limit is 20 (a different AMQP type), expected 20 (signedint)");
        }
    }

    @Test
    void aDeadQueueOfAnOlderHopperWithoutDeliveryLimitStillDeclaresButVerifyListsIt(TestBroker broker,
            TestQueues queues) throws Exception {
        QueueSpec q = queues.track(QueueSpec.builder(queues.name("olddead")).build());
        Topology topology = new Topology(HopperConfig.of(List.of(q)));
        try (Connection c = broker.connect("topology-refusal-it")) {
            try (Channel ch = c.createChannel()) {
                ch.queueDeclare(q.deadQueue(), true, false, false, Map.of("x-queue-type", "quorum"));
            }
            topology.declare(c); // upgrading must not stop workers
            assertThat(topology.verify(c).problems()).extracting(VerificationReport.Problem::describe)
                    .containsExactly("queue '" + q.deadQueue() + "': x-delivery-limit is not set, expected 1000000000");
        }
    }
}
