package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestQueues.class)
class ConfirmedChannelIT {

    private static AMQP.BasicProperties props() {
        return new AMQP.BasicProperties.Builder().messageId(UUID.randomUUID().toString()).deliveryMode(2).build();
    }

    @Test
    void aChannelTheBrokerClosesFailsItsUnconfirmedMessagesAndTheNextPublishOpensAFreshOne(TestBroker broker,
            TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(BrokerFixture.config(broker, "chclose"));
                ConfirmedChannel ch = new ConfirmedChannel(conn, 50, Duration.ofSeconds(10), Duration.ofSeconds(30))) {
            String queue = BrokerFixture.declareQueue(queues, conn, "chclose");
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            // Several rounds: each time the broker kills the channel (404 on a missing exchange), everything on it
            // settles, the window is whole again, and publishing continues on a new channel whose sequence numbers
            // start at 1 again without clobbering anything.
            for (int round = 0; round < 5; round++) {
                List<CompletableFuture<Void>> before = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    before.add(ch.publish(QueueNames.TASKS_EXCHANGE, queue, props(), body));
                }
                CompletableFuture<Void> doomed = ch.publish("no-such-exchange-" + UUID.randomUUID(), "x", props(), body);
                PublishException e = (PublishException) catchThrowableOfType(ExecutionException.class, doomed::get)
                        .getCause();
                assertThat(e.reason()).isEqualTo(PublishException.Reason.CONNECTION_LOST);
                assertThat(e).hasMessageContaining("channel closed");
                for (CompletableFuture<Void> f : before) {
                    // Confirmed before the channel died, or failed with it: settled either way.
                    assertThat(f.handle((v, x) -> x == null || x instanceof PublishException).get()).isTrue();
                }
                List<CompletableFuture<Void>> after = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    after.add(ch.publish(QueueNames.TASKS_EXCHANGE, queue, props(), body));
                }
                CompletableFuture.allOf(after.toArray(new CompletableFuture[0])).get();
                assertThat(ch.inFlight()).isZero();
                assertThat(ch.windowRoom()).isEqualTo(50);
            }
        }
    }

    @Test
    void closeFailsLaterPublishesAsClosedAndNeverHangs(TestBroker broker, TestQueues queues) throws Exception {
        BrokerConnection conn = BrokerConnection.open(BrokerFixture.config(broker, "chclosed"));
        try (conn) {
            String queue = BrokerFixture.declareQueue(queues, conn, "chclosed");
            ConfirmedChannel ch = new ConfirmedChannel(conn, 10, Duration.ofSeconds(10), Duration.ofSeconds(30));
            ch.publish(QueueNames.TASKS_EXCHANGE, queue, props(), new byte[] {'1'}).get();
            ch.close(Duration.ofSeconds(5));
            PublishException e = (PublishException) catchThrowableOfType(ExecutionException.class,
                    () -> ch.publish(QueueNames.TASKS_EXCHANGE, queue, props(), new byte[] {'2'}).get()).getCause();
            assertThat(e.reason()).isEqualTo(PublishException.Reason.CLOSED);
            assertThat(BrokerFixture.depth(conn, queue)).isEqualTo(1);
        }
    }

    @Test
    void closingWhileThreadsPublishSettlesEveryFuture(TestBroker broker, TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(BrokerFixture.config(broker, "closerace"))) {
            String queue = BrokerFixture.declareQueue(queues, conn, "closerace");
            ConfirmedChannel ch = new ConfirmedChannel(conn, 100, Duration.ofSeconds(10), Duration.ofSeconds(30));
            List<CompletableFuture<Void>> all = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger confirmed = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                threads.add(new Thread(() -> {
                    for (int i = 0; i < 3000; i++) {
                        CompletableFuture<Void> f = ch.publish(QueueNames.TASKS_EXCHANGE, queue, props(),
                                new byte[] {'1'});
                        f.thenRun(confirmed::incrementAndGet);
                        all.add(f);
                    }
                }));
            }
            threads.forEach(Thread::start);
            await().atMost(Duration.ofSeconds(30)).until(() -> confirmed.get() >= 500);
            ch.close(Duration.ZERO); // fail whatever is unconfirmed right now
            for (Thread t : threads) {
                t.join();
            }
            assertThat(all).hasSize(12_000);
            // No future hangs: every one is settled by now or within moments, each exactly one way.
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> all.stream().allMatch(CompletableFuture::isDone));
            int closed = 0;
            int ok = 0;
            for (CompletableFuture<Void> f : all) {
                if (f.isCompletedExceptionally()) {
                    PublishException e = (PublishException) catchThrowableOfType(ExecutionException.class, f::get)
                            .getCause();
                    assertThat(e.reason()).isEqualTo(PublishException.Reason.CLOSED);
                    closed++;
                } else {
                    ok++;
                }
            }
            assertThat(closed).isPositive();
            assertThat(ok).isGreaterThanOrEqualTo(500);
            assertThat(ch.inFlight()).isZero();
            // Every confirmed message is in the queue (some failed at close may be there too).
            assertThat(BrokerFixture.depth(conn, queue)).isGreaterThanOrEqualTo(ok);
        }
    }
}
