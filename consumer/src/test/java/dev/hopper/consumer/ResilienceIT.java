package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.BreakerSpec;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Circuit breaker and rate limit against the real broker. */
@ExtendWith(TestQueues.class)
class ResilienceIT {

    record Job(int n) {}

    /** Counts settlements by outcome and records breaker states and consuming changes. */
    static final class Events implements WorkerListener {
        final Map<Outcome, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        final List<BreakerState> states = new CopyOnWriteArrayList<>();

        @Override
        public void onSettled(Settled e) {
            outcomes.computeIfAbsent(e.outcome(), o -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void onBreakerStateChanged(String queue, BreakerState state) {
            states.add(state);
        }

        int count(Outcome o) {
            AtomicInteger n = outcomes.get(o);
            return n == null ? 0 : n.get();
        }

        long halfOpens() {
            return states.stream().filter(s -> s == BreakerState.HALF_OPEN).count();
        }
    }

    @Test
    void breakerPausesTheQueueWhileTheDownstreamIsDownAndCompletesEverythingAfterwards(TestBroker broker,
            TestQueues queues) throws Exception {
        int tasksTotal = 30;
        int minimumCalls = 4;
        int halfOpenCalls = 2;
        int concurrency = 2;
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("breaker"))
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(1)).withMaxAttempts(50))
                .concurrency(concurrency).prefetch(6)
                .breaker(new BreakerSpec(50, minimumCalls, minimumCalls, Duration.ofMillis(1500), halfOpenCalls))
                .build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        AtomicBoolean down = new AtomicBoolean(true);
        AtomicInteger failures = new AtomicInteger();
        Set<String> done = ConcurrentHashMap.newKeySet();
        Events events = new Events();
        try (TestTasks tasks = new TestTasks(broker, "breaker-it-publisher");
                Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("breaker-it")
                        .build()).config(config).listener(events).drainTimeout(Duration.ofSeconds(10))
                        .handler("call", Job.class, (job, ctx) -> {
                            if (down.get()) {
                                failures.incrementAndGet();
                                throw new IOException("downstream unavailable");
                            }
                            done.add(ctx.messageId());
                        }).build()) {
            tasks.declare(config);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < tasksTotal; i++) {
                ids.add(tasks.publish(spec.name(), "call", "{\"n\":" + i + "}"));
            }
            w.start();

            // Down: the breaker opens after the threshold and the worker stops consuming.
            await().atMost(Duration.ofSeconds(20)).until(() -> events.states.contains(BreakerState.OPEN));
            assertThat(w.isConsuming(spec.name())).isFalse();
            assertThat(w.isHealthy()).isTrue(); // deliberately paused is healthy
            // Two half-open rounds of trials that fail again.
            await().atMost(Duration.ofSeconds(20)).until(() -> events.halfOpens() >= 2
                    && events.states.get(events.states.size() - 1) == BreakerState.OPEN && w.inFlight() == 0);
            // Nothing is lost or dead: every task waits in the work queue or a retry tier.
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) + retryDepth(tasks, spec)
                    == tasksTotal);
            long halfOpens = events.halfOpens();
            // Only the calls that tripped the breaker (plus one already running on the other thread) and the
            // half-open trials ran; the other tasks kept their attempts.
            assertThat(failures.get()).isBetween(minimumCalls, minimumCalls + concurrency - 1
                    + (int) halfOpens * halfOpenCalls);
            assertThat(events.count(Outcome.RETRIED)).isEqualTo(failures.get());
            assertThat(retryDepth(tasks, spec)).isLessThanOrEqualTo(failures.get());
            assertThat(events.count(Outcome.DEAD)).isZero();
            assertThat(tasks.depth(spec.deadQueue())).isZero();
            assertThat(done).isEmpty();

            // Recovered: trials succeed, the breaker closes, and every task completes.
            down.set(false);
            await().atMost(Duration.ofSeconds(30)).until(() -> done.size() == tasksTotal);
            assertThat(done).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(events.states.get(events.states.size() - 1)).isEqualTo(BreakerState.CLOSED);
            assertThat(w.isConsuming(spec.name())).isTrue();
            assertThat(events.count(Outcome.SUCCESS)).isEqualTo(tasksTotal);
            assertThat(events.count(Outcome.DEAD)).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 0);
            assertThat(tasks.depth(spec.deadQueue())).isZero();
        }
    }

    @Test
    void permanentFailuresDoNotOpenTheBreaker(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("breaker-perm")).concurrency(2).prefetch(4)
                .breaker(new BreakerSpec(50, 4, 4, Duration.ofSeconds(30), 2)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Events events = new Events();
        try (TestTasks tasks = new TestTasks(broker, "breaker-perm-it-publisher");
                Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri())
                        .connectionName("breaker-perm-it").build()).config(config).listener(events)
                        .handler("bad", Job.class, (job, ctx) -> {
                            throw new PermanentTaskException("task " + job.n() + " can never succeed");
                        }).build()) {
            tasks.declare(config);
            w.start();
            for (int i = 0; i < 10; i++) {
                tasks.publish(spec.name(), "bad", "{\"n\":" + i + "}");
            }
            tasks.publishRaw(spec.name(), TestTasksProps.malformed(), "{oops".getBytes());
            await().atMost(Duration.ofSeconds(20)).until(() -> tasks.depth(spec.deadQueue()) == 11);
            assertThat(events.states).isEmpty();
            assertThat(w.isConsuming(spec.name())).isTrue();
        }
    }

    @Test
    void rateLimitSpacesHandlerStartsAtTwentyPerSecond(TestBroker broker, TestQueues queues) throws Exception {
        int total = 200;
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("rate")).concurrency(4).prefetch(16)
                .rateLimit(20).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        List<Long> starts = Collections.synchronizedList(new ArrayList<>());
        try (TestTasks tasks = new TestTasks(broker, "rate-it-publisher");
                Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("rate-it").build())
                        .config(config).handler("tick", Job.class, (job, ctx) -> starts.add(System.nanoTime()))
                        .build()) {
            tasks.declare(config);
            for (int i = 0; i < total; i++) {
                tasks.publish(spec.name(), "tick", "{\"n\":" + i + "}");
            }
            w.start();
            await().atMost(Duration.ofSeconds(40)).until(() -> starts.size() == total && w.inFlight() == 0);
        }
        List<Long> t = new ArrayList<>(starts);
        Collections.sort(t);
        // 20 starts per 1-second cycle: 200 starts need 10 cycles, so the first and last start are at least 9
        // cycles apart, less how far into its cycle the first start came (the limiter starts with the worker).
        Duration span = Duration.ofNanos(t.get(total - 1) - t.get(0));
        assertThat(span).isGreaterThanOrEqualTo(Duration.ofMillis(8500));
        // Any 41 consecutive starts touch at least three cycles, so they span more than one second.
        for (int i = 0; i + 40 < total; i++) {
            assertThat(Duration.ofNanos(t.get(i + 40) - t.get(i))).isGreaterThan(Duration.ofSeconds(1));
        }
        System.out.printf("rate-limit 20/s: 200 handler starts spanned %d ms%n", span.toMillis());
    }

    private static long retryDepth(TestTasks tasks, QueueSpec spec) throws Exception {
        long n = 0;
        for (DelayTier tier : spec.tiers()) {
            n += tasks.depth(spec.retryQueue(tier));
        }
        return n;
    }

    /** Properties of a message that is not a Hopper task (no id, no type). */
    static final class TestTasksProps {
        static com.rabbitmq.client.AMQP.BasicProperties malformed() {
            return new com.rabbitmq.client.AMQP.BasicProperties.Builder().contentType("application/json")
                    .deliveryMode(2).build();
        }
    }
}
