package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.GetResponse;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.jspecify.annotations.Nullable;

/**
 * A worker closed while a handler runs and more deliveries of the same key wait in its lane: the handler finishes
 * during the drain, after the handler threads stopped taking work, and releases the next delivery of its key. That
 * delivery, and the one after it, go back as copies (no delivery counted, attempt 0), carried by the closing thread
 * ({@link LateHandOns}). Before the tenth session the stopped pool refused them and they were nacked, which raised
 * {@code x-delivery-count}: this test fails that way without the closing thread's hand-back. On the Redis store the
 * follower is released by the completion's answer, which comes after the handler thread is done: the closing thread
 * carries on what was refused only after it waited for the completions (the Redis case fails with the two steps the
 * other way round).
 */
@ExtendWith(TestQueues.class)
class CloseWithLaneFollowersIT {
    record Job(int n) {}

    /** In-memory store: a released follower starts on a delivery thread (the pool's refusal in its start). */
    @Test
    @Timeout(120)
    void followersReleasedDuringTheDrainGoBackAsCopies(TestBroker broker, TestQueues queues) throws Exception {
        followersGoBackAsCopies(broker, queues, null);
    }

    /**
     * Redis store: a released follower starts on the thread that released it and is handed on for its hand-back
     * (the pool's refusal in the hand-on); it sends no lock call, the worker being closed.
     */
    @Test
    @Timeout(120)
    void followersOfAWorkerOnRedisGoBackAsCopies(TestBroker broker, TestQueues queues) throws Exception {
        try (RedisCoordinationStore redis = new RedisCoordinationStore(RedisStoreConfig.builder(TestRedis.get().uri())
                .namespace("closelane:" + UUID.randomUUID() + ":").build())) {
            followersGoBackAsCopies(broker, queues, redis);
            assertThat(TestRedisKeys.exists(redis.config().namespace() + "lock:K")).as("K's lock released")
                    .isFalse();
        }
    }

    private void followersGoBackAsCopies(TestBroker broker, TestQueues queues, @Nullable CoordinationStore store)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("closelane")).concurrency(2).prefetch(8)
                .build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        TaskHandler<Job> handler = (job, ctx) -> {
            runs.incrementAndGet();
            running.countDown();
            if (!release.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
        };
        try (TestTasks tasks = new TestTasks(broker, "closelane-it-publisher")) {
            tasks.declare(config);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "K", null));
            }
            Worker.Builder b = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("closelane")
                    .build()).config(config).workerId("closelane").drainTimeout(Duration.ofSeconds(30))
                    .handler("job", Job.class, handler);
            Worker w = (store == null ? b : b.coordinationStore(store)).build();
            Thread closer = new Thread(w::close, "closelane-closer");
            try {
                w.start();
                assertThat(running.await(30, TimeUnit.SECONDS)).as("the first task runs").isTrue();
                // The other two are prefetched and wait in K's lane (one key runs one task at a time per worker).
                await("both followers prefetched").atMost(Duration.ofSeconds(30))
                        .until(() -> tasks.depth(spec.name()) == 0);

                closer.start();
                // Release the handler only once close() waits for the handler threads: the pools are shut by then,
                // so the lane's next delivery is handed on to a pool that refuses it.
                await("close() waits for running handlers").atMost(Duration.ofSeconds(30))
                        .until(() -> Arrays.stream(closer.getStackTrace())
                                .anyMatch(f -> f.getMethodName().equals("awaitTermination")));
                release.countDown();
                closer.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(closer.isAlive()).as("close() returned").isFalse();
            } finally {
                release.countDown();
                w.close();
            }

            assertThat(w.drainTimedOut()).isFalse();
            assertThat(runs.get()).as("only the first ran: the others were released while the worker closed")
                    .isEqualTo(1);
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 2);
            List<GetResponse> back = tasks.drain(spec.name());
            assertThat(back).extracting(r -> r.getProps().getMessageId())
                    .containsExactlyElementsOf(ids.subList(1, 3));
            assertThat(back).as("handed back as copies: no delivery counted, no attempt").allSatisfy(r -> {
                Map<String, Object> h = r.getProps().getHeaders();
                assertThat(((Number) h.getOrDefault("x-delivery-count", 0L)).longValue()).isZero();
                assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(0);
            });
        }
    }
}
