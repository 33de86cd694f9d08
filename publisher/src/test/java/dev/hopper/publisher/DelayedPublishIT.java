package dev.hopper.publisher;

import static dev.hopper.publisher.BrokerFixture.config;
import static dev.hopper.publisher.BrokerFixture.depth;
import static dev.hopper.publisher.BrokerFixture.drainExactly;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Delivery;
import dev.hopper.coordination.CoalesceClaim;
import dev.hopper.coordination.CoalesceKey;
import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Delayed and coalesced publishing against the real broker: where the message goes and what it carries. */
@ExtendWith(TestQueues.class)
class DelayedPublishIT {
    private static final Instant NOW = Instant.parse("2026-12-02T06:00:00Z");

    @Test
    void delayedTasksGoToTheLargestFittingTierWithNotBeforeAndOneHop(TestBroker broker, TestQueues queues)
            throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "delay"))) {
            QueueSpec spec = declare(queues, conn, "delay"); // default tiers 5s, 30s, 5m, 1h
            try (TaskPublisher publisher = TaskPublisher.builder().connection(conn)
                    .clock(Clock.fixed(NOW, ZoneOffset.UTC)).queues(List.of(spec)).build()) {
                PublishReceipt threeHours = publisher.publish(publisher.newTask().queue(spec.name()).type("t")
                        .payload(1).delay(Duration.ofHours(3)).build());
                publisher.publish(publisher.newTask().queue(spec.name()).type("t").payload(2)
                        .notBefore(NOW.plus(Duration.ofMinutes(6))).build());
                PublishReceipt past = publisher.publish(publisher.newTask().queue(spec.name()).type("t").payload(3)
                        .notBefore(NOW.minusSeconds(1)).build());

                assertThat(threeHours.notBefore()).isEqualTo(NOW.plus(Duration.ofHours(3)));
                assertThat(threeHours.absorbed()).isFalse();
                assertThat(past.notBefore()).as("a time already passed runs at once").isNull();
                Delivery hour = drainExactly(conn, QueueNames.retryQueue(spec.name(), DelayTier.parse("1h")), 1).get(0);
                assertThat(hour.getProperties().getHeaders())
                        .containsEntry(Headers.NOT_BEFORE, NOW.plus(Duration.ofHours(3)).toEpochMilli())
                        .containsEntry(Headers.HOPS, 1).doesNotContainKey(Headers.COALESCE);
                Delivery fiveMinutes = drainExactly(conn, QueueNames.retryQueue(spec.name(), DelayTier.parse("5m")), 1)
                        .get(0);
                assertThat(fiveMinutes.getProperties().getHeaders())
                        .containsEntry(Headers.NOT_BEFORE, NOW.plus(Duration.ofMinutes(6)).toEpochMilli());
                Delivery now = drainExactly(conn, spec.name(), 1).get(0);
                assertThat(now.getProperties().getHeaders()).doesNotContainKeys(Headers.NOT_BEFORE, Headers.HOPS);
            }
        }
    }

    @Test
    void delayedTaskForAQueueWhoseTiersAreUnknownIsNotSent(TestBroker broker, TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "notiers"))) {
            QueueSpec spec = declare(queues, conn, "notiers");
            try (TaskPublisher publisher = TaskPublisher.builder().connection(conn).build()) {
                assertThatThrownBy(() -> publisher.publish(publisher.newTask().queue(spec.name()).type("t").payload(1)
                        .delay(Duration.ofMinutes(1)).build()))
                        .isInstanceOfSatisfying(PublishException.class, e -> {
                            assertThat(e.reason()).isEqualTo(PublishException.Reason.NOT_SCHEDULABLE);
                            assertThat(e.mayHaveArrived()).isFalse();
                        })
                        .hasMessageContaining("does not know the queue's delay tiers; build it with queues(...)");
                assertThatThrownBy(() -> TaskPublisher.builder().connection(conn).queues(List.of(spec)).build()
                        .publish(publisher.newTask().queue(spec.name()).type("t").payload(1)
                                .delay(Duration.ofDays(60)).build()))
                        .hasMessageContaining("needs 1440 hops");
                for (DelayTier t : spec.tiers()) {
                    assertThat(depth(conn, spec.retryQueue(t))).isZero();
                }
                assertThat(depth(conn, spec.name())).isZero();
            }
        }
    }

    @Test
    void coalescedPublishesAreSentOnceAndAbsorbedAfterwardsWithTheLatestPayloadKept(TestBroker broker,
            TestQueues queues) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "coalesce"));
                InMemoryCoordinationStore store = new InMemoryCoordinationStore()) {
            QueueSpec spec = declare(queues, conn, "coalesce");
            try (TaskPublisher publisher = TaskPublisher.builder().connection(conn).queues(List.of(spec))
                    .coalescingStore(store).meterRegistry(registry).build()) {
                List<PublishReceipt> receipts = new java.util.ArrayList<>();
                for (int i = 1; i <= 5; i++) {
                    receipts.add(publisher.publish(publisher.newTask().queue(spec.name()).type("digest")
                            .key("user:7").payload(java.util.Map.of("n", i))
                            .coalesce(Duration.ofSeconds(30), Duration.ofMinutes(5)).build()));
                }

                assertThat(receipts.get(0).absorbed()).isFalse();
                assertThat(receipts.subList(1, 5)).allSatisfy(r -> {
                    assertThat(r.absorbed()).isTrue();
                    assertThat(r.coalescedInto()).isEqualTo(receipts.get(0).messageId());
                });
                Delivery sent = drainExactly(conn, spec.name(), 1).get(0);
                assertThat(sent.getProperties().getMessageId()).isEqualTo(receipts.get(0).messageId());
                dev.hopper.topology.TaskSchedule schedule = dev.hopper.topology.TaskSchedule.read(
                        sent.getProperties().getHeaders());
                assertThat(schedule).isEqualTo(new dev.hopper.topology.TaskSchedule(null,
                        new dev.hopper.topology.CoalesceWindow(Duration.ofSeconds(30), Duration.ofMinutes(5)), 0,
                        null));
                assertThat(sent.getProperties().getHeaders().get(Headers.KEY)).hasToString("user:7");
                CoalesceClaim claim = store.claim(new CoalesceKey(spec.name(), "digest", "user:7"),
                        receipts.get(0).messageId(), schedule.coalesce(), Instant.now());
                assertThat(new String(((CoalesceClaim.Claimed) claim).payload(), StandardCharsets.UTF_8))
                        .isEqualTo("{\"n\":5}");
                assertThat(((CoalesceClaim.Claimed) claim).absorbed()).isEqualTo(4);
                assertThat(registry.get("hopper.tasks.published").tag("outcome", "absorbed").counter().count())
                        .isEqualTo(4);
                assertThat(registry.get("hopper.tasks.published").tag("outcome", "confirmed").counter().count())
                        .isEqualTo(1);

                // Within the debounce after that run: one delayed run, through a tier.
                PublishReceipt next = publisher.publish(publisher.newTask().queue(spec.name()).type("digest")
                        .key("user:7").payload(6).coalesce(Duration.ofSeconds(30), Duration.ofMinutes(5)).build());
                assertThat(next.notBefore()).isAfter(Instant.now().plusSeconds(20));
                assertThat(drainExactly(conn, spec.retryQueue(DelayTier.parse("30s")), 1).get(0).getProperties()
                        .getHeaders()).containsKeys(Headers.NOT_BEFORE, Headers.COALESCE);
            }
        }
    }

    @Test
    void coalescedTaskWithoutAStoreIsNotSent(TestBroker broker, TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "nostore"))) {
            QueueSpec spec = declare(queues, conn, "nostore");
            try (TaskPublisher publisher = TaskPublisher.builder().connection(conn).build()) {
                assertThatThrownBy(() -> publisher.publish(publisher.newTask().queue(spec.name()).type("digest")
                        .key("k").payload(1).coalesce(Duration.ofSeconds(1), Duration.ofSeconds(2)).build()))
                        .isInstanceOfSatisfying(PublishException.class, e -> assertThat(e.reason())
                                .isEqualTo(PublishException.Reason.COALESCING_UNAVAILABLE))
                        .hasMessageContaining("no coordination store");
                assertThat(depth(conn, spec.name())).isZero();
            }
        }
    }

    private static QueueSpec declare(TestQueues queues, BrokerConnection conn, String hint) {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name(hint)).build());
        new Topology(HopperConfig.of(List.of(spec))).declare(conn.amqp());
        return spec;
    }
}
