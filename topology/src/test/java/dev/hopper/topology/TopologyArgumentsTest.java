package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TopologyArgumentsTest {

    @Test
    void deadQueuesGetAHugeExplicitDeliveryLimitNeverMinusOne() {
        // Finding 5: Q.dead was declared without x-delivery-limit, so 4.x's default of 20 applied.
        QueueSpec q = QueueSpec.builder("uploads").build();
        assertThat(Topology.deadQueueArguments(q)).containsEntry("x-queue-type", "quorum")
                .containsEntry("x-delivery-limit", 1_000_000_000);
        BrokerObject dead = new Topology(HopperConfig.of(List.of(q))).objects().stream()
                .filter(o -> o.name().equals("uploads.dead")).findFirst().orElseThrow();
        assertThat(dead.arguments().get("x-delivery-limit")).isEqualTo(1_000_000_000).isNotEqualTo(-1);
        int workLimit = (Integer) Topology.workQueueArguments(q).get("x-delivery-limit");
        assertThat(Topology.DEAD_QUEUE_DELIVERY_LIMIT).isGreaterThan(workLimit);
    }
}
