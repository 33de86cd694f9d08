package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Prints publish throughput with confirms on: {@code publishAsync} of 1 KB payloads to one quorum queue through
 * the default window. A measurement, not an assertion on speed (machines are noisy); it does check that every
 * message was confirmed and is in the queue. {@code -Dhopper.bench.count=N} sets the number of messages.
 */
@ExtendWith(TestQueues.class)
class PublishThroughputIT {

    @Test
    void printsConfirmedPublishRate(TestBroker broker, TestQueues queues) throws Exception {
        int count = Integer.getInteger("hopper.bench.count", 20_000);
        char[] filler = new char[1024 - "{\"data\":\"\"}".length()];
        Arrays.fill(filler, 'x');
        Map<String, String> payload = Map.of("data", new String(filler));
        try (BrokerConnection conn = BrokerConnection.open(BrokerFixture.config(broker, "bench"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).build()) {
            String queue = BrokerFixture.declareQueue(queues, conn, "bench");
            Task sample = publisher.newTask().queue(queue).type("bench").payload(payload).build();
            assertThat(sample.body()).hasSize(1024);

            run(publisher, queue, payload, Math.min(count, 5_000)); // warm-up: JIT, broker-side queue process
            long start = System.nanoTime();
            run(publisher, queue, payload, count);
            long nanos = System.nanoTime() - start;
            double rate = count / (nanos / 1e9);
            System.out.printf("publish throughput: %d confirmed messages of 1024 bytes in %d ms = %.0f msg/s "
                    + "(publishAsync, default window, one quorum queue)%n", count, nanos / 1_000_000, rate);

            assertThat(BrokerFixture.depth(conn, queue)).isEqualTo(count + Math.min(count, 5_000));
        }
    }

    private static void run(TaskPublisher publisher, String queue, Object payload, int n) throws Exception {
        List<CompletableFuture<PublishReceipt>> futures = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // Building the task (serializing the payload) is part of what a producer pays per message.
            futures.add(publisher.publishAsync(publisher.newTask().queue(queue).type("bench").payload(payload).build()));
        }
        CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get();
    }
}
