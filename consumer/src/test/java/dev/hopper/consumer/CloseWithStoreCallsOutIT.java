package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.GetResponse;
import dev.hopper.coordination.LockRequest;
import dev.hopper.coordination.LockResult;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A worker closed while the first lock calls of its deliveries are still out (a store that answers slowly) lets the
 * answers come back within its drain timeout: by the time {@code close()} returns the deliveries are back in the
 * queue as copies (no delivery counted, attempt 0), none ran, and their keys are unlocked. Before the ninth session
 * the pools stopped taking work first: the late answers were refused, their deliveries nacked (a delivery counted)
 * and their keys stayed locked for the whole lease, after every deploy. This test fails that way without the wait.
 */
@ExtendWith(TestQueues.class)
class CloseWithStoreCallsOutIT {
    /** How long after close() starts the store answers the lock calls: inside the drain timeout. */
    private static final Duration ANSWER_DELAY = Duration.ofMillis(1500);

    record Job(int n) {}

    @Test
    @Timeout(120)
    void deliveriesWhoseLockCallsAreOutGoBackAsCopiesAndFreeTheirKeys(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("closeout")).concurrency(2).prefetch(8)
                .build()); // the default 30 s lease: longer than this test waits
        HopperConfig config = HopperConfig.of(List.of(spec));
        String namespace = "closeout:" + UUID.randomUUID() + ":";
        AtomicInteger lockRequests = new AtomicInteger();
        CompletableFuture<Void> answers = new CompletableFuture<>(); // the store answers once this completes
        AtomicInteger runs = new AtomicInteger();
        TaskHandler<Job> handler = (job, ctx) -> runs.incrementAndGet();
        try (RedisCoordinationStore redis = new RedisCoordinationStore(RedisStoreConfig.builder(TestRedis.get().uri())
                        .namespace(namespace).build());
                TestTasks tasks = new TestTasks(broker, "closeout-it-publisher")) {
            redis.isCompleted("warm-up");
            ForwardingStore slow = new ForwardingStore(redis) {
                @Override
                public CompletionStage<List<LockResult>> checkAndLockAllAsync(List<LockRequest> requests) {
                    lockRequests.addAndGet(requests.size());
                    // The locks are taken at once; only the answer is held back.
                    return redis.checkAndLockAllAsync(requests).thenCombine(answers, (result, ignored) -> result);
                }
            };
            tasks.declare(config);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ids.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "K" + i, null));
            }
            Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("closeout").build())
                    .config(config).coordinationStore(slow).workerId("closeout")
                    .drainTimeout(Duration.ofSeconds(20)).handler("job", Job.class, handler).build();
            w.start();
            try {
                // Two lock batches go out at once (BatchedStore.LOCK_BATCHES_IN_FLIGHT); the other deliveries' calls
                // wait behind them in the batcher and go out when those are answered, during close().
                await("lock calls out and their locks taken").atMost(Duration.ofSeconds(30))
                        .until(() -> lockRequests.get() >= BatchedStore.LOCK_BATCHES_IN_FLIGHT
                                && IntStream.range(0, 4).filter(i -> TestRedisKeys.exists(namespace + "lock:K" + i))
                                        .count() >= BatchedStore.LOCK_BATCHES_IN_FLIGHT);

                CompletableFuture.runAsync(() -> answers.complete(null),
                        CompletableFuture.delayedExecutor(ANSWER_DELAY.toMillis(), TimeUnit.MILLISECONDS));
                w.close();
            } finally {
                answers.complete(null);
                w.close();
            }

            assertThat(w.drainTimedOut()).isFalse();
            assertThat(List.of(0, 1, 2, 3)).as("no key is left locked when close() returns")
                    .noneMatch(i -> TestRedisKeys.exists(namespace + "lock:K" + i));
            assertThat(runs.get()).as("none of them ran: the worker was closing when their answers came").isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 4);
            List<GetResponse> back = tasks.drain(spec.name());
            assertThat(back).extracting(r -> r.getProps().getMessageId()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(back).as("handed back as copies: no delivery counted, no attempt").allSatisfy(r -> {
                Map<String, Object> h = r.getProps().getHeaders();
                assertThat(((Number) h.getOrDefault("x-delivery-count", 0L)).longValue()).isZero();
                assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(0);
            });
        }
    }
}
