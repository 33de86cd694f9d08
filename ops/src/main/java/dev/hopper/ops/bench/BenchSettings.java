package dev.hopper.ops.bench;

import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.DurationText;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one benchmark run does. Immutable; build with {@link #builder()}. The compact constructor rejects
 * combinations that cannot run or would measure something else than asked (IllegalArgumentException, which the
 * command turns into a usage error).
 *
 * @param tasks how many tasks to publish; 0 when the run is bounded by {@code duration} instead
 * @param duration how long publishers publish; zero when the run is bounded by {@code tasks}
 * @param publishers publisher threads, each with its own connection and {@code TaskPublisher}
 * @param concurrency handler threads per worker
 * @param prefetch unacknowledged deliveries per worker (the consumer's basic.qos)
 * @param workers 0: one worker in this JVM; K &gt;= 1: K worker JVMs
 * @param payloadBytes approximate size of each task's JSON body
 * @param keyed whether tasks carry {@code x-hopper-key} (and so take the lock and revision check)
 * @param keys how many distinct keys keyed tasks cycle through
 * @param rate total publish rate limit in tasks per second across publishers; 0 for no limit
 * @param workerJvmArgs extra JVM options for worker JVMs (e.g. a JFR recording)
 * @param warmup tasks published and completed before measuring (same queue, rate and workers), so that JIT
 *     compilation and connection set-up do not count; 0 for none
 * @param publishOnly publish and wait for the confirms, start no worker (the tasks are deleted with the queue): the
 *     publisher's rate alone, to compare with PerfTest's producers ({@code --consumers 0})
 */
record BenchSettings(URI brokerUri, URI redisUri, long tasks, Duration duration, int publishers, int concurrency,
        int prefetch, int workers, int payloadBytes, boolean keyed, int keys, Store store, HandlerKind handler,
        Duration sleep, double rate, List<String> workerJvmArgs, long warmup,
        boolean publishOnly) {

    /** Where locks, revisions and done-markers live for the run. */
    enum Store {
        /** No coordination: tasks are published without a key. */
        NONE,
        /** {@code InMemoryCoordinationStore}: one process only. */
        MEMORY,
        /** {@code RedisCoordinationStore} at {@link #redisUri()}. */
        REDIS;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What the handler does with a task. */
    enum HandlerKind {
        /** Returns at once: measures Hopper and the broker, not the work. */
        NOOP,
        /** Returns at once, registered for {@code byte[]}: the body is checked to be JSON but not bound. */
        RAW,
        /** Sleeps for {@link #sleep()}: an I/O-bound handler. */
        SLEEP;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Hopper's only queue type; the option exists so that the report says what was measured. */
    static final String QUEUE_TYPE = "quorum";

    static final URI DEFAULT_REDIS_URI = URI.create("redis://127.0.0.1:6379");

    BenchSettings {
        requireNonNull(brokerUri, "brokerUri");
        requireNonNull(redisUri, "redisUri");
        requireNonNull(duration, "duration");
        requireNonNull(store, "store");
        requireNonNull(handler, "handler");
        requireNonNull(sleep, "sleep");
        workerJvmArgs = List.copyOf(workerJvmArgs);
        BrokerConfig.builder(brokerUri).build(); // validates the scheme and host
        if (store == Store.REDIS) {
            RedisStoreConfig.builder(redisUri).build();
        }
        if ((tasks > 0) == (duration.compareTo(Duration.ZERO) > 0)) {
            throw new IllegalArgumentException("give either a task count (--tasks N, N >= 1) or a duration "
                    + "(--duration 60s), not both");
        }
        if (tasks < 0 || duration.isNegative()) {
            throw new IllegalArgumentException("--tasks and --duration must be positive");
        }
        positive("--publishers", publishers);
        positive("--concurrency", concurrency);
        positive("--prefetch", prefetch);
        positive("--keys", keys);
        if (prefetch < concurrency) {
            throw new IllegalArgumentException("--prefetch (" + prefetch + ") must be >= --concurrency ("
                    + concurrency + "), or handler threads sit idle");
        }
        if (prefetch > 65_535) {
            throw new IllegalArgumentException("--prefetch must be <= 65535, was " + prefetch);
        }
        if (workers < 0 || workers > 64) {
            throw new IllegalArgumentException("--workers must be between 0 (in-process) and 64, was " + workers);
        }
        if (payloadBytes < 32 || payloadBytes > 1024 * 1024) {
            throw new IllegalArgumentException("--payload-bytes must be between 32 and 1048576 (Hopper's default "
                    + "max body), was " + payloadBytes);
        }
        if (keyed && store == Store.NONE) {
            throw new IllegalArgumentException("keyed tasks need a coordination store: add --store memory or "
                    + "--store redis (--store none publishes unkeyed tasks)");
        }
        if (keyed && store == Store.MEMORY && workers > 1) {
            throw new IllegalArgumentException("an in-memory store coordinates one process only; with --workers "
                    + workers + " use --store redis");
        }
        if (sleep.isNegative() || sleep.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("--sleep-ms must be between 0 and 60000");
        }
        if (handler == HandlerKind.NOOP && !sleep.isZero()) {
            throw new IllegalArgumentException("--sleep-ms needs --handler sleep");
        }
        if (Double.isNaN(rate) || rate < 0) {
            throw new IllegalArgumentException("--rate must be >= 0 (0: no limit), was " + rate);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, was " + warmup);
        }
        if (publishOnly && (workers > 0 || warmup > 0)) {
            throw new IllegalArgumentException("--publish-only starts no worker: drop --workers and --warmup");
        }
        if (!workerJvmArgs.isEmpty() && workers == 0) {
            throw new IllegalArgumentException("--worker-jvm-arg needs --workers 1 or more (worker JVMs)");
        }
    }

    private static void positive(String option, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(option + " must be >= 1, was " + value);
        }
    }

    boolean boundedByTasks() {
        return tasks > 0;
    }

    /** The configuration as the report echoes it: URIs with passwords masked. */
    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uri", BrokerConfig.builder(brokerUri).build().redactedUri());
        if (boundedByTasks()) {
            m.put("tasks", tasks);
        } else {
            m.put("duration", DurationText.format(duration));
        }
        if (warmup > 0) {
            m.put("warmup", warmup);
        }
        m.put("publishers", publishers);
        m.put("rate", rate == 0 ? "unlimited" : rate);
        m.put("workers", publishOnly ? "none (publish only)"
                : workers == 0 ? "in-process" : workers + " JVM" + (workers > 1 ? "s" : ""));
        m.put("concurrency", concurrency);
        m.put("prefetch", prefetch);
        m.put("payloadBytes", payloadBytes);
        m.put("keyed", keyed);
        if (keyed) {
            m.put("keys", keys);
        }
        m.put("store", store.label());
        if (store == Store.REDIS) {
            m.put("redis", RedisStoreConfig.builder(redisUri).build().redactedUri());
        }
        m.put("handler", handler == HandlerKind.SLEEP ? "sleep " + sleep.toMillis() + "ms" : handler.label());
        m.put("queueType", QUEUE_TYPE);
        return m;
    }

    static Builder builder() {
        return new Builder();
    }

    /** Builds {@link BenchSettings} with the command's defaults. Not thread-safe. */
    static final class Builder {
        private URI brokerUri = BrokerConfig.DEFAULT_URI;
        private URI redisUri = DEFAULT_REDIS_URI;
        private long tasks = 20_000;
        private Duration duration = Duration.ZERO;
        private int publishers = 1;
        private int concurrency = 4;
        private int prefetch = 16;
        private int workers;
        private int payloadBytes = 1024;
        private boolean keyed;
        private int keys = 1000;
        private Store store = Store.NONE;
        private HandlerKind handler = HandlerKind.NOOP;
        private Duration sleep = Duration.ZERO;
        private double rate;
        private List<String> workerJvmArgs = List.of();
        private long warmup;
        private boolean publishOnly;

        private Builder() {}

        Builder brokerUri(URI uri) {
            this.brokerUri = requireNonNull(uri, "uri");
            return this;
        }

        Builder redisUri(URI uri) {
            this.redisUri = requireNonNull(uri, "uri");
            return this;
        }

        /** Bounds the run by a task count (clears any duration). */
        Builder tasks(long n) {
            this.tasks = n;
            this.duration = Duration.ZERO;
            return this;
        }

        /** Bounds the run by publishing time (clears the task count). */
        Builder duration(Duration d) {
            this.duration = requireNonNull(d, "duration");
            this.tasks = 0;
            return this;
        }

        Builder publishers(int n) {
            this.publishers = n;
            return this;
        }

        Builder concurrency(int n) {
            this.concurrency = n;
            return this;
        }

        Builder prefetch(int n) {
            this.prefetch = n;
            return this;
        }

        Builder workers(int n) {
            this.workers = n;
            return this;
        }

        Builder payloadBytes(int n) {
            this.payloadBytes = n;
            return this;
        }

        Builder keyed(boolean on) {
            this.keyed = on;
            return this;
        }

        Builder keys(int n) {
            this.keys = n;
            return this;
        }

        Builder store(Store s) {
            this.store = requireNonNull(s, "store");
            return this;
        }

        Builder handler(HandlerKind h) {
            this.handler = requireNonNull(h, "handler");
            return this;
        }

        Builder sleep(Duration d) {
            this.sleep = requireNonNull(d, "sleep");
            return this;
        }

        Builder rate(double perSecond) {
            this.rate = perSecond;
            return this;
        }

        Builder workerJvmArgs(List<String> args) {
            this.workerJvmArgs = List.copyOf(args);
            return this;
        }

        Builder warmup(long tasks) {
            this.warmup = tasks;
            return this;
        }

        Builder publishOnly(boolean on) {
            this.publishOnly = on;
            return this;
        }

        BenchSettings build() {
            return new BenchSettings(brokerUri, redisUri, tasks, duration, publishers, concurrency, prefetch,
                    workers, payloadBytes, keyed, keys, store, handler, sleep, rate, workerJvmArgs, warmup,
                    publishOnly);
        }
    }
}
