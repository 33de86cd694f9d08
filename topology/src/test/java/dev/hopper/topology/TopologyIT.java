package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestQueues.class)
class TopologyIT {

    @Test
    void declaresTwoQueuesWithThreeTiersIdempotentlyAndTiersFlowBack(TestBroker broker, TestQueues queues)
            throws Exception {
        List<DelayTier> tiers = List.of(DelayTier.parse("1s"), DelayTier.parse("2s"), DelayTier.parse("3s"));
        QueueSpec a = queues.track(QueueSpec.builder(queues.name("a")).tiers(tiers).build());
        QueueSpec b = queues.track(QueueSpec.builder(queues.name("b")).tiers(tiers).deliveryLimit(9).build());
        Topology topology = new Topology(HopperConfig.of(List.of(a, b)));

        try (Connection c = broker.connect("topology-it")) {
            DeclareReport first = topology.declare(c);
            assertThat(first.created()).contains("queue '" + a.name() + "'", "queue '" + a.deadQueue() + "'",
                    "queue '" + a.retryQueue(tiers.get(2)) + "'", "queue '" + b.name() + "'");
            assertThat(first.created().size() + first.existing().size()).isEqualTo(12);
            assertThat(first.existing()).allMatch(o -> o.startsWith("exchange"));

            DeclareReport second = topology.declare(c);
            assertThat(second.created()).isEmpty();
            assertThat(second.existing()).hasSize(2 + 2 * (1 + 3 + 1));
            assertThat(topology.verify(c).problems()).isEmpty();

            // The broker holds quorum queues with exactly these arguments: a declaration with any other value is
            // refused, one with these values accepted.
            for (QueueSpec q : List.of(a, b)) {
                assertEquivalent(c, q.name(), Topology.workQueueArguments(q));
                assertRefused(c, q.name(), Map.of("x-queue-type", "classic"));
                for (DelayTier t : tiers) {
                    assertEquivalent(c, q.retryQueue(t), Topology.retryQueueArguments(q, t));
                }
                assertEquivalent(c, q.deadQueue(), Topology.deadQueueArguments(q));
            }
            Map<String, Object> ttl2s = new java.util.HashMap<>(Topology.retryQueueArguments(a, tiers.get(1)));
            ttl2s.put("x-message-ttl", 9999);
            assertRefused(c, a.retryQueue(tiers.get(1)), ttl2s);

            // A message in a tier queue comes back to its work queue after the tier's TTL.
            Channel ch = c.createChannel();
            long sent = System.nanoTime();
            ch.basicPublish("", a.retryQueue(tiers.get(0)),
                    new AMQP.BasicProperties.Builder().messageId("tier-trip").deliveryMode(2).build(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            GetResponse got = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> ch.basicGet(a.name(), true), r -> r != null);
            assertThat(got.getProps().getMessageId()).isEqualTo("tier-trip");
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
            assertThat(ch.messageCount(a.retryQueue(tiers.get(0)))).isZero();

            // Published through hopper.tasks with the queue name as key, it reaches the work queue.
            ch.basicPublish(QueueNames.TASKS_EXCHANGE, b.name(), true, new AMQP.BasicProperties(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(30)).until(() -> ch.messageCount(b.name()) == 1);
            // And through hopper.dead with the queue name as key, it reaches the dead queue.
            ch.basicPublish(QueueNames.DEAD_EXCHANGE, b.name(), true, new AMQP.BasicProperties(),
                    "{}".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(30)).until(() -> ch.messageCount(b.deadQueue()) == 1);
            ch.close();
        }
    }

    private static void assertEquivalent(Connection c, String queue, Map<String, Object> args) throws Exception {
        Channel ch = c.createChannel();
        ch.queueDeclare(queue, true, false, false, args);
        ch.close();
    }

    private static void assertRefused(Connection c, String queue, Map<String, Object> args) throws Exception {
        Channel ch = c.createChannel();
        try {
            ch.queueDeclare(queue, true, false, false, args);
            throw new AssertionError("declaring " + queue + " with " + args + " should have been refused");
        } catch (IOException expected) {
            assertThat(expected.getCause().getMessage()).contains("PRECONDITION_FAILED");
        }
    }
}
