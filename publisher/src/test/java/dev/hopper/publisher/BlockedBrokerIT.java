package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.ThrowawayRabbit;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Publishing while the broker blocks publishers (a memory alarm), on a throwaway node of this test's own (the
 * shared broker's watermark is never touched). Issue 17 findings 1 and 8, issue 11 item 4.
 */
@Timeout(300)
class BlockedBrokerIT {
    private static ThrowawayRabbit node;

    @BeforeAll
    static void startNode() {
        node = ThrowawayRabbit.start("rel-pub", 5690);
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void clearAlarm() {
        node.clearMemoryAlarm();
    }

    private static BrokerConfig config(String hint) {
        return BrokerConfig.builder(node.uri()).connectionName("hopper-blocked-" + hint)
                .recoveryInterval(Duration.ofMillis(500)).build();
    }

    private static String declare(BrokerConnection conn, String hint) {
        String queue = "blocked-" + hint + "-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
        new Topology(HopperConfig.of(List.of(QueueSpec.builder(queue).build()))).declare(conn.amqp());
        return queue;
    }

    private static long depth(String queue) throws Exception {
        try (var c = node.connect("depth"); Channel ch = c.createChannel()) {
            return ch.queueDeclarePassive(queue).getMessageCount();
        }
    }

    @Test
    void aPublishDuringAnAlarmFailsWithinItsTimeoutSayingTheBrokerBlocksAndCloseReturns() throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config("fails"))) {
            String queue = declare(conn, "fails");
            TaskPublisher publisher = TaskPublisher.builder().connection(conn).windowWait(Duration.ofSeconds(2))
                    .confirmTimeout(Duration.ofSeconds(2)).publishTimeout(Duration.ofSeconds(3)).build();
            node.raiseMemoryAlarm();
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                PublishException first = catchThrowableOfType(PublishException.class, () -> publisher.publish(
                        publisher.newTask().queue(queue).type("t").payload(Map.of("n", 1)).build()));
                assertThat(first).as("the publish that ran into the alarm").isNotNull();
                assertThat(first.reason()).isEqualTo(PublishException.Reason.BLOCKED);
                assertThat(first.mayHaveArrived()).isTrue();
                assertThat(first.getMessage()).contains("broker blocked publishing (low on memory)");
                // Later publishes see the block before sending anything.
                PublishException second = catchThrowableOfType(PublishException.class, () -> publisher.publish(
                        publisher.newTask().queue(queue).type("t").payload(Map.of("n", 2)).build()));
                assertThat(second.reason()).isEqualTo(PublishException.Reason.BLOCKED);
                assertThat(second.getMessage()).contains("broker blocked publishing (low on memory)");
                // Finding 8: a blocked broker never sends close-ok; close must not wait for it.
                publisher.close();
            });
        }
    }

    @Test
    void aPublishSentBeforeAnAlarmIsConfirmedOnceTheAlarmClearsWithinItsOverallTimeout() throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config("waits"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn)
                        .confirmTimeout(Duration.ofSeconds(2)).publishTimeout(Duration.ofSeconds(120)).build()) {
            String queue = declare(conn, "waits");
            node.raiseMemoryAlarm();
            ExecutorService caller = Executors.newSingleThreadExecutor();
            try {
                Future<PublishReceipt> receipt = caller.submit(() -> publisher.publish(
                        publisher.newTask().queue(queue).type("t").payload(Map.of("n", 1)).build()));
                await("the broker blocks the connection").atMost(Duration.ofSeconds(30))
                        .until(() -> conn.blockedReason() != null);
                // Stay blocked for longer than the confirm timeout: the blocked time must not count against it.
                await().pollDelay(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(6)).until(() -> true);
                assertThat(receipt).isNotDone();
                node.clearMemoryAlarm();
                assertThat(receipt.get(60, java.util.concurrent.TimeUnit.SECONDS).queue()).isEqualTo(queue);
            } finally {
                caller.shutdownNow();
            }
            assertThat(depth(queue)).isEqualTo(1);
        }
    }

    @Test
    void closeReturnsWhileAPublishIsStuckWritingToABlockedBroker() throws Exception {
        // Issue 11 item 4: publish held its monitor across basicPublish, so a publish stuck writing to a broker
        // that stopped reading made close() (and every other publisher) wait on the monitor without end.
        BrokerConnection conn = BrokerConnection.open(config("stuck"));
        String queue = declare(conn, "stuck");
        ConfirmedChannel channel = new ConfirmedChannel(conn, 1000, Duration.ofSeconds(1), Duration.ofSeconds(5));
        node.raiseMemoryAlarm();
        byte[] body = new byte[4 * 1024 * 1024];
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().messageId("m").build();
        ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "stuck-writer");
            t.setDaemon(true);
            return t;
        });
        try {
            // The first publish gets through before the block; the broker then stops reading its socket, and one of
            // these 4 MB publishes is left writing into full socket buffers.
            Future<?> writing = writer.submit(() -> {
                for (int i = 0; i < 64; i++) {
                    channel.publish("", queue, props, body);
                }
            });
            await("a publish is stuck writing to the blocked broker").atMost(Duration.ofSeconds(60))
                    .pollDelay(Duration.ofSeconds(3))
                    .until(() -> conn.blockedReason() != null && !writing.isDone());
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                CompletableFuture<Void> other = channel.publish("", queue, props, new byte[1]);
                PublishException e = catchThrowableOfType(PublishException.class, () -> {
                    try {
                        other.join();
                    } catch (java.util.concurrent.CompletionException ce) {
                        throw ce.getCause();
                    }
                });
                assertThat(e.reason()).isEqualTo(PublishException.Reason.BLOCKED);
                channel.close(Duration.ofSeconds(1));
                conn.close();
            });
        } finally {
            node.clearMemoryAlarm();
            writer.shutdownNow();
        }
    }
}
