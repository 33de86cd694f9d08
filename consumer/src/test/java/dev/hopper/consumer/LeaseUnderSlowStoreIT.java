package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.LockSpec;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two workers share a coordination store that answers lease renewals of some keys only after 3 s, with a 1 s
 * lease. A renewal stuck in the store must neither starve the other keys' renewals (their handlers, which run
 * longer than the lease, keep their locks and succeed at once) nor let a run go on past its lease: at no moment do
 * two handlers run the same key.
 */
@ExtendWith(TestQueues.class)
class LeaseUnderSlowStoreIT {

    record Job(int n) {}

    @Test
    @Timeout(300)
    void noTwoWorkersEverRunOneKeyAndFastKeysKeepTheirLeases(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name("slowstore"))
                .tiers(List.of(DelayTier.parse("1s"))).concurrency(4).prefetch(8)
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(1)).withMaxAttempts(3))
                .lock(new LockSpec(Duration.ofSeconds(1), 50, SupersededPolicy.SKIP)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        InMemoryCoordinationStore shared = new InMemoryCoordinationStore();
        ForwardingStore slowRenewals = new ForwardingStore(shared) {
            @Override
            public boolean renew(String key, String owner, long token, Duration lease) {
                if (key.startsWith("slow")) {
                    try {
                        Thread.sleep(3_000); // the store answers after 3 s
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return super.renew(key, owner, token, lease);
            }
        };
        Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        List<String> overlaps = new CopyOnWriteArrayList<>();
        Map<String, Integer> fastSucceeded = new ConcurrentHashMap<>();
        AtomicInteger slowRuns = new AtomicInteger();
        TaskHandler<Job> handler = (job, ctx) -> {
            String key = ctx.key().orElseThrow();
            AtomicInteger n = running.computeIfAbsent(key, k -> new AtomicInteger());
            if (n.incrementAndGet() > 1) {
                overlaps.add(key + " run by two workers at once");
            }
            try {
                if (key.startsWith("slow")) {
                    slowRuns.incrementAndGet();
                }
                Thread.sleep(2_500); // longer than the lease: needs its renewals
                if (key.startsWith("fast")) {
                    fastSucceeded.put(ctx.messageId(), ctx.attempt());
                }
            } finally {
                n.decrementAndGet();
            }
        };
        try (TestTasks tasks = new TestTasks(broker, "slowstore-it-publisher");
                Worker a = worker(broker, config, slowRenewals, "slowstore-a", handler);
                Worker b = worker(broker, config, slowRenewals, "slowstore-b", handler)) {
            tasks.declare(config);
            a.start();
            b.start();
            List<String> fast = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fast.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "fast-1", null));
                fast.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "fast-2", null));
                tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "slow-1", null);
                tasks.publish(spec.name(), "job", "{\"n\":" + i + "}", "slow-2", null);
            }
            await().atMost(Duration.ofSeconds(120)).until(() -> fastSucceeded.keySet().containsAll(fast));
            // The slow keys' runs lose their lease each time and end in the dead queue after their attempts.
            await().atMost(Duration.ofSeconds(120)).until(() -> tasks.depth(spec.deadQueue()) == 6
                    && a.inFlight() == 0 && b.inFlight() == 0);

            assertThat(overlaps).isEmpty();
            // Renewals of the fast keys are not held up behind the stuck ones: their runs, each longer than two
            // leases, keep their locks. (Not all of them: on a machine this loaded a thread can be descheduled for
            // most of a 1 s lease; stuck behind 3 s renewals, as on one shared timer, none would.)
            assertThat(fastSucceeded).containsOnlyKeys(fast);
            assertThat(fastSucceeded.values().stream().filter(attempt -> attempt == 0).count())
                    .as("fast tasks that kept their lease through their first run").isGreaterThanOrEqualTo(4);
            assertThat(slowRuns.get()).as("slow keys did run (and were stopped at their lease end)")
                    .isGreaterThanOrEqualTo(6);
        }
    }

    private static Worker worker(TestBroker broker, HopperConfig config, ForwardingStore store,
            String name, TaskHandler<Job> handler) {
        return Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName(name).build()).config(config)
                .coordinationStore(store).workerId(name).drainTimeout(Duration.ofSeconds(10))
                .handler("job", Job.class, handler).build();
    }
}
