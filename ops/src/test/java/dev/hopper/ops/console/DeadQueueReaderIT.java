package dev.hopper.ops.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Reading a dead queue deeper than one window (a small window here, so the test is cheap): the window's letters seen
 * once, in order; full, early-stopping and limited reads, repeated, all leave the queue exactly as it was.
 */
@ExtendWith(TestQueues.class)
@Timeout(120)
class DeadQueueReaderIT {
    @Test
    void readsOneWindowInOrderAndLeavesTheQueueAsItWas(TestBroker broker, TestQueues queues) throws Exception {
        int n = 250;
        ConsoleFixture.Failure f = new ConsoleFixture.Failure("exhausted", "java.io.IOException", "a.B.c(B.java:1)");
        List<String> expected = IntStream.range(0, n).mapToObj(i -> "r-" + i).toList();
        try (Connection raw = broker.connect("reader-it");
                BrokerConnection c = BrokerConnection.open(BrokerConfig.builder(broker.uri())
                        .connectionName("reader-it-console").build())) {
            QueueSpec q = ConsoleFixture.declare(raw, queues, "reader");
            ConsoleFixture.publish(raw, q.name(), n, i -> ConsoleFixture.props(q.name(), "r-" + i, "t", "k", f,
                    Instant.now()), i -> ConsoleFixture.json("{}"));
            DeadQueueReader reader = new DeadQueueReader(c, Duration.ofSeconds(3), 100);

            for (int pass = 0; pass < 3; pass++) {
                List<String> seen = new ArrayList<>();
                DeadQueueReader.Result r = reader.read(q.deadQueue(), Long.MAX_VALUE, (pos, l) -> {
                    assertThat(pos).isEqualTo(seen.size());
                    seen.add(l.messageId());
                    return true;
                });
                assertThat(r.depth()).isEqualTo(n);
                assertThat(seen).as("pass %d: one window", pass).containsExactlyElementsOf(expected.subList(0, 100));

                List<String> untilFound = new ArrayList<>();
                reader.read(q.deadQueue(), Long.MAX_VALUE, (pos, l) -> {
                    untilFound.add(l.messageId());
                    return !l.messageId().equals("r-30");
                });
                assertThat(untilFound).hasSize(31);
                assertThat(ConsoleFixture.depth(raw, q.deadQueue())).isEqualTo(n);
            }
            List<String> limited = new ArrayList<>();
            DeadQueueReader.Result r = reader.read(q.deadQueue(), 60, (pos, l) -> limited.add(l.messageId()));
            assertThat(r.read()).isEqualTo(60);
            assertThat(limited).containsExactlyElementsOf(expected.subList(0, 60));

            List<String> drained = new ArrayList<>();
            Channel ch = raw.createChannel();
            GetResponse g;
            while ((g = ch.basicGet(q.deadQueue(), true)) != null) {
                drained.add(g.getProps().getMessageId());
            }
            ch.close();
            assertThat(drained).containsExactlyElementsOf(expected);
        }
    }
}
