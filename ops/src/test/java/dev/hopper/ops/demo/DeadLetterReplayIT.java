package dev.hopper.ops.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.ConfirmedChannel;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The demo's replay against the real broker: confirm then ack, headers of the replayed copy. */
@ExtendWith(TestQueues.class)
class DeadLetterReplayIT {

    @Test
    void replayMovesDeadLettersBackWithAFreshBudgetAndAnAuditTrail(TestQueues queues, TestBroker broker)
            throws Exception {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name("replay")).build());
        try (BrokerConnection bc = BrokerConnection.open(BrokerConfig.builder(broker.uri())
                .connectionName("replay-it").build());
                ConfirmedChannel publisher = new ConfirmedChannel(bc, 10, Duration.ofSeconds(5),
                        Duration.ofSeconds(10))) {
            new Topology(HopperConfig.of(List.of(spec))).declare(bc.amqp());
            Connection c = bc.amqp();
            try (Channel ch = c.createChannel()) {
                ch.confirmSelect();
                for (int i = 0; i < 3; i++) {
                    byte[] body = ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8);
                    AMQP.BasicProperties p = EnvelopeCodec.properties(new TaskEnvelope("dead-" + i, "t", null, null,
                            3, Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-01-01T00:00:01Z"), 0, 0,
                            body));
                    Map<String, Object> h = new LinkedHashMap<>(p.getHeaders());
                    h.put(Headers.DEAD_REASON, "exhausted");
                    h.put(Headers.ERROR_MESSAGE, "boom");
                    h.put(Headers.BROKER_DEATH, List.of(Map.of("queue", spec.name(), "count", 1L)));
                    ch.basicPublish(QueueNames.DEAD_EXCHANGE, spec.name(), true, p.builder().headers(h).build(), body);
                }
                ch.waitForConfirmsOrDie(10_000);
            }
            Channel ch = bc.openChannel();
            DeadLetterReplay replay = new DeadLetterReplay(ch, publisher, Clock.systemUTC());
            List<DeadLetterReplay.DeadLetter> dead = replay.takeAll(spec.deadQueue());
            assertThat(dead).extracting(DeadLetterReplay.DeadLetter::messageId)
                    .containsExactly("dead-0", "dead-1", "dead-2");
            assertThat(dead.get(0).header(Headers.DEAD_REASON)).isEqualTo("exhausted");
            for (DeadLetterReplay.DeadLetter d : dead) {
                replay.replay(d, spec.name());
            }
            ch.close();
            try (Channel check = c.createChannel()) {
                assertThat(check.queueDeclarePassive(spec.deadQueue()).getMessageCount()).isZero();
                for (int i = 0; i < 3; i++) {
                    GetResponse r = check.basicGet(spec.name(), true);
                    assertThat(r).isNotNull();
                    assertThat(r.getProps().getMessageId()).isEqualTo("dead-" + i);
                    assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("{\"i\":" + i + "}");
                    Map<String, Object> h = r.getProps().getHeaders();
                    assertThat(h).doesNotContainKeys(Headers.DEAD_REASON, Headers.ERROR_MESSAGE,
                            Headers.BROKER_DEATH, Headers.FIRST_ATTEMPT_AT)
                            .containsKeys(Headers.REPLAYED_AT, Headers.REPLAYED_BY, Headers.PUBLISHED_AT);
                    assertThat(h.get(Headers.ATTEMPT)).isEqualTo(0);
                    assertThat(h.get(Headers.REPLAY_COUNT)).isEqualTo(1);
                }
                assertThat(check.basicGet(spec.name(), true)).isNull();
            }
        }
    }
}
