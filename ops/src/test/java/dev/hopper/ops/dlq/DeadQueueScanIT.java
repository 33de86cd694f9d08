package dev.hopper.ops.dlq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The scanning primitive's window: what happens when a pass may hold back fewer messages than the queue has. */
@ExtendWith(TestQueues.class)
class DeadQueueScanIT {

    static List<String> fill(Connection c, TestQueues queues, QueueSpec[] out) throws Exception {
        QueueSpec q = queues.track(QueueSpec.builder(queues.name("scan")).tiers(List.of(DelayTier.parse("5s")))
                .build());
        new Topology(HopperConfig.of(List.of(q))).declare(c);
        out[0] = q;
        Channel ch = c.createChannel();
        ch.confirmSelect();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            ids.add("s-" + i);
            ch.basicPublish(QueueNames.DEAD_EXCHANGE, q.name(), true,
                    new AMQP.BasicProperties.Builder().messageId("s-" + i).deliveryMode(2).build(), "{}".getBytes());
        }
        ch.waitForConfirmsOrDie(10_000);
        ch.close();
        return ids;
    }

    static List<String> drain(Connection c, String queue) throws Exception {
        List<String> ids = new ArrayList<>();
        Channel ch = c.createChannel();
        GetResponse r;
        while ((r = ch.basicGet(queue, true)) != null) {
            ids.add(r.getProps().getMessageId());
        }
        ch.close();
        return ids;
    }

    @Test
    void aFullWindowEndsThePassAndSaysSoAndNothingMoves(TestBroker broker, TestQueues queues) throws Exception {
        try (Connection raw = broker.connect("scan-it");
                BrokerConnection c = BrokerConnection.open(BrokerConfig.builder(broker.uri()).build())) {
            QueueSpec[] q = new QueueSpec[1];
            List<String> all = fill(raw, queues, q);
            DeadQueueScan.Summary s;
            List<String> seen = new ArrayList<>();
            try (DeadQueueScan scan = DeadQueueScan.open(c, q[0].deadQueue(), Duration.ofSeconds(1), 10)) {
                s = scan.run((letter, tag) -> {
                    seen.add(letter.messageId());
                    return DeadQueueScan.Step.CONTINUE;
                });
            }
            assertThat(s.depth()).isEqualTo(30);
            assertThat(s.scanned()).isEqualTo(10);
            assertThat(s.windowFull()).isTrue();
            assertThat(seen).containsExactlyElementsOf(all.subList(0, 10));
            assertThat(ScanReport.of(s, q[0].deadQueue(), 0).warning()).get().asString()
                    .contains("only the first 10 of 30");
            assertThat(drain(raw, q[0].deadQueue())).containsExactlyElementsOf(all);
        }
    }

    @Test
    void acknowledgingFreesTheWindowSoAPassGoesThroughEverything(TestBroker broker, TestQueues queues)
            throws Exception {
        try (Connection raw = broker.connect("scan-it");
                BrokerConnection c = BrokerConnection.open(BrokerConfig.builder(broker.uri()).build())) {
            QueueSpec[] q = new QueueSpec[1];
            List<String> all = fill(raw, queues, q);
            List<String> taken = new ArrayList<>();
            DeadQueueScan.Summary s;
            // A window of 11: the 10 kept ones leave room for one more delivery, so acknowledging keeps it moving.
            try (DeadQueueScan scan = DeadQueueScan.open(c, q[0].deadQueue(), Duration.ofSeconds(1), 11)) {
                s = scan.run((letter, tag) -> {
                    // Keep every third, take the rest.
                    if (taken.size() + 1 < 21 && Integer.parseInt(letter.messageId().substring(2)) % 3 != 0) {
                        scan.ack(tag);
                        taken.add(letter.messageId());
                    }
                    return DeadQueueScan.Step.CONTINUE;
                });
            }
            assertThat(s.scanned()).isEqualTo(30);
            assertThat(s.windowFull()).isFalse();
            List<String> kept = new ArrayList<>(all);
            kept.removeAll(taken);
            assertThat(kept).hasSize(10);
            assertThat(drain(raw, q[0].deadQueue())).containsExactlyElementsOf(kept);
        }
    }
}
