package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.LockSpec;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.ThrowawayRedis;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 17 finding 11: Redis (without persistence) killed and restarted empty while a keyed task runs. The restarted
 * Redis has forgotten the lock, so another worker could take the key at once; the running handler must hear that its
 * lease is lost as soon as the worker sees the new run_id, not at its own next renewal (a third of a 2-minute lease,
 * 40 s), and the task is retried as lock-lost and completes.
 */
@ExtendWith(TestQueues.class)
class StoreRestartIT {

    record Job(int n) {}

    @Test
    @Timeout(240)
    void aStoreRestartEndsEveryHeldLeaseAtOnce(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name("storerestart"))
                .tiers(List.of(DelayTier.parse("1s"))).concurrency(1).prefetch(2)
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(1)).withMaxAttempts(3))
                .lock(new LockSpec(Duration.ofMinutes(2), 50, SupersededPolicy.SKIP)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        AtomicBoolean started = new AtomicBoolean();
        AtomicBoolean heardLeaseLost = new AtomicBoolean();
        Map<String, Integer> succeeded = new ConcurrentHashMap<>();
        TaskHandler<Job> handler = (job, ctx) -> {
            if (ctx.attempt() == 0) {
                started.set(true);
                try {
                    Thread.sleep(Duration.ofSeconds(100).toMillis()); // far past the check, before the lease's end
                } finally {
                    heardLeaseLost.set(ctx.leaseLost());
                }
            }
            succeeded.put(ctx.messageId(), ctx.attempt());
        };
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(redis.uri())
                        .build());
                TestTasks tasks = new TestTasks(broker, "storerestart-it-publisher");
                Worker worker = Worker.builder().broker(BrokerConfig.builder(broker.uri())
                        .connectionName("storerestart-it").build()).config(config).coordinationStore(store)
                        .drainTimeout(Duration.ofSeconds(5)).handler("job", Job.class, handler).build()) {
            tasks.declare(config);
            worker.start();
            String runId = store.incarnation().orElseThrow();
            String id = tasks.publish(spec.name(), "job", "{\"n\":1}", "k-1", null);
            await().atMost(Duration.ofSeconds(60)).untilTrue(started);
            redis.kill();
            redis.restart(); // empty: no persistence
            // Once the client has reconnected: a new run id.
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> assertThat(
                    store.incarnation()).as("a new run id after the restart").isPresent().get().isNotEqualTo(runId));
            // Well before the first renewal (40 s into the run) would have found the lock gone.
            await().atMost(Duration.ofSeconds(20)).untilTrue(heardLeaseLost);
            await().atMost(Duration.ofSeconds(60)).until(() -> succeeded.containsKey(id));
            assertThat(succeeded).containsEntry(id, 1); // retried once, as lock-lost
            assertThat(tasks.depth(spec.deadQueue())).isZero();
        }
    }
}
