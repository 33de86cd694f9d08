package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.GetResponse;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.LockSpec;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A worker on the Redis store takes the locks of a prefetch window before it can run them: with handlers slower
 * than the lock's lease and concurrency one, the last of four keyed tasks waits about three times the lease for the
 * queue's one thread (DeadlineSweeper.holdQueued; before the eighth session, for a run slot on a thread of its own:
 * RunSlots). Its lock must be kept renewed meanwhile: every task runs once, one at a time, and none goes back through
 * a delay tier as lock-busy (which is what happens when the waiting locks simply expire: this test fails then).
 */
@ExtendWith(TestQueues.class)
class RunSlotWaitIT {

    record Job(int n) {}

    @Test
    @Timeout(120)
    void locksHeldWhileWaitingForARunSlotAreKeptAndEveryTaskRunsOnceInTurn(TestBroker broker, TestQueues queues)
            throws Exception {
        Duration lease = Duration.ofSeconds(1);
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("slotwait")).concurrency(1).prefetch(4)
                .lock(new LockSpec(lease, 3, SupersededPolicy.SKIP)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        List<String> settled = new CopyOnWriteArrayList<>();
        TaskHandler<Job> handler = (job, ctx) -> {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                runs.computeIfAbsent(ctx.messageId(), id -> new AtomicInteger()).incrementAndGet();
                Thread.sleep(1_200); // longer than the lease: the ones waiting behind need their locks renewed
            } finally {
                running.decrementAndGet();
            }
        };
        WorkerListener listener = new WorkerListener() {
            @Override
            public void onSettled(Settled e) {
                settled.add(e.outcome() + "/" + e.reason());
            }
        };
        try (RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(TestRedis.get().uri())
                        .namespace("slotwait:" + UUID.randomUUID() + ":").build());
                TestTasks tasks = new TestTasks(broker, "slotwait-it-publisher");
                Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("slotwait")
                        .build()).config(config).coordinationStore(store).workerId("slotwait")
                        .drainTimeout(Duration.ofSeconds(10)).listener(listener)
                        .handler("job", Job.class, handler).build()) {
            tasks.declare(config);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ids.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "K" + i, null));
            }
            // Connected before the first lock call: with a 1 s lease, a connect slowed by a loaded machine would
            // answer the first locks after their lease (lock-busy by design), which is not what this test is about.
            store.isCompleted("warm-up");
            w.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> settled.size() == 4);

            assertThat(runs.keySet()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(runs.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
            assertThat(mostAtOnce.get()).as("handlers at once with concurrency 1").isEqualTo(1);
            assertThat(settled).as("every task succeeded in its first delivery: no lock-busy tier")
                    .containsOnly(Outcome.SUCCESS + "/" + WorkerListener.Settled.NO_REASON);
            assertThat(tasks.depth(spec.deadQueue())).isZero();
        }
    }

    /**
     * The queue's one thread is in a handler that outlasts the drain timeout while three locked deliveries wait for
     * it. Closing the worker hands those three back at once, as copies (no delivery counted), and releases their
     * locks; dropped with the pool instead, they would go back with the channel and hold their keys for the lease.
     */
    @Test
    @Timeout(120)
    void lockedDeliveriesWaitingForAThreadGoBackAsCopiesAndFreeTheirKeysWhenTheWorkerStops(TestBroker broker,
            TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("stopwait")).concurrency(1).prefetch(4)
                .build()); // the default 30 s lease: longer than this test waits
        HopperConfig config = HopperConfig.of(List.of(spec));
        String namespace = "stopwait:" + UUID.randomUUID() + ":";
        List<String> started = new CopyOnWriteArrayList<>();
        TaskHandler<Job> stuck = (job, ctx) -> {
            started.add(ctx.messageId());
            long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < until) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ignored) {
                    // On purpose: this handler outlives the drain timeout and the interrupt that ends it.
                }
            }
        };
        try (RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(TestRedis.get().uri())
                        .namespace(namespace).build());
                TestTasks tasks = new TestTasks(broker, "stopwait-it-publisher")) {
            tasks.declare(config);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ids.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "K" + i, null));
            }
            Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("stopwait").build())
                    .config(config).coordinationStore(store).workerId("stopwait")
                    .drainTimeout(Duration.ofMillis(300)).handler("job", Job.class, stuck).build();
            w.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> started.size() == 1);
            int running = ids.indexOf(started.get(0));
            List<Integer> waiting = new ArrayList<>(List.of(0, 1, 2, 3));
            waiting.remove(Integer.valueOf(running));
            await("the other three took their locks and wait for the thread").atMost(Duration.ofSeconds(30))
                    .until(() -> waiting.stream().allMatch(i -> TestRedisKeys.exists(namespace + "lock:K" + i)));

            w.close();

            assertThat(w.drainTimedOut()).as("the running handler outlasted the drain").isTrue();
            assertThat(waiting).as("the waiting deliveries' locks were released at close, not left to the lease")
                    .noneMatch(i -> TestRedisKeys.exists(namespace + "lock:K" + i));
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 4);
            List<GetResponse> back = tasks.drain(spec.name());
            assertThat(back).extracting(r -> r.getProps().getMessageId()).containsExactlyInAnyOrderElementsOf(ids);
            List<GetResponse> unrun = back.stream().filter(r -> !r.getProps().getMessageId().equals(started.get(0)))
                    .toList();
            assertThat(unrun).as("handed back as copies: no delivery counted, no attempt").allSatisfy(r -> {
                Map<String, Object> h = r.getProps().getHeaders();
                assertThat(((Number) h.getOrDefault("x-delivery-count", 0L)).longValue()).isZero();
                assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(0);
            });
            assertThat(started).as("none of them ran").hasSize(1);
        }
    }
}
