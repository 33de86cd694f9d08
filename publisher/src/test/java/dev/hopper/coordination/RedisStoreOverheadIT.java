package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.testing.TestRedis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Measures what the Redis coordination store adds to each keyed task: one {@code checkAndLock} plus one
 * {@code complete}, i.e. two round trips, against the shared Redis. Prints median and p99; asserts only that every
 * iteration acquired its lock (no timing asserts: machines are noisy).
 *
 * <p>CI runs a short pass. For the figures in the report run, from the repository root:
 * <pre>
 * mvn -q -B -ntp -pl publisher -am verify -Dtest=NONE -Dit.test=RedisStoreOverheadIT \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
 *     -Dhopper.overhead.iterations=20000
 * </pre>
 */
class RedisStoreOverheadIT {
    private static final int ITERATIONS = Integer.getInteger("hopper.overhead.iterations", 2_000);
    private static final int WARMUP = Math.max(1_000, ITERATIONS / 10);
    private static final Duration LEASE = Duration.ofSeconds(30);
    /** Short, so the measurement's done-markers leave the shared Redis soon. */
    private static final Duration DONE_TTL = Duration.ofSeconds(30);

    private final RedisNamespace namespace = new RedisNamespace(TestRedis.get().uri(), "overhead");

    @AfterEach
    void deleteKeys() {
        namespace.close();
    }

    @Test
    void checkAndLockPlusCompleteOnOneThread() {
        try (RedisCoordinationStore store = newStore()) {
            run(store, 0, WARMUP, null);
            Recorder recorder = new Recorder(3);
            long started = System.nanoTime();
            run(store, 0, ITERATIONS, recorder);
            report("1 thread", recorder.getIntervalHistogram(), System.nanoTime() - started);
        }
    }

    @Test
    void checkAndLockPlusCompleteOnEightThreads() throws Exception {
        int threads = 8;
        try (RedisCoordinationStore store = newStore()) {
            Recorder recorder = new Recorder(3);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> warmups = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    warmups.add(pool.submit(() -> run(store, thread, WARMUP / threads, null)));
                }
                for (Future<?> f : warmups) {
                    f.get(5, TimeUnit.MINUTES);
                }
                long started = System.nanoTime();
                List<Future<?>> runs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    runs.add(pool.submit(() -> run(store, thread, ITERATIONS / threads, recorder)));
                }
                for (Future<?> f : runs) {
                    f.get(5, TimeUnit.MINUTES);
                }
                report(threads + " threads", recorder.getIntervalHistogram(), System.nanoTime() - started);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** One key per thread, so every iteration acquires (contention is not what is measured here). */
    private static void run(CoordinationStore store, int thread, int iterations, Recorder recorder) {
        String key = "overhead-key-" + thread;
        for (int i = 0; i < iterations; i++) {
            String owner = "t" + thread + "-" + i;
            long start = System.nanoTime();
            LockResult result = store.checkAndLock(key, 1L, owner, LEASE, false);
            assertThat(result).isInstanceOf(LockResult.Acquired.class);
            store.complete(key, owner, ((LockResult.Acquired) result).fencingToken(), owner, DONE_TTL);
            if (recorder != null) {
                recorder.recordValue(System.nanoTime() - start);
            }
        }
    }

    private static void report(String label, Histogram h, long elapsedNanos) {
        System.out.printf("coordination overhead (checkAndLock + complete, Redis) %s: n=%d median=%.3f ms"
                        + " p90=%.3f ms p99=%.3f ms p99.9=%.3f ms max=%.3f ms throughput=%.0f tasks/s%n",
                label, h.getTotalCount(), ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
                ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()),
                h.getTotalCount() / (elapsedNanos / 1e9));
        assertThat(h.getTotalCount()).isPositive();
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private RedisCoordinationStore newStore() {
        return new RedisCoordinationStore(
                RedisStoreConfig.builder(TestRedis.get().uri()).namespace(namespace.prefix()).build());
    }
}
