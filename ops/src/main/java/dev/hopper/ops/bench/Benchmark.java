package dev.hopper.ops.bench;

import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.CoordinationStore;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.HopperException;
import java.time.Duration;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one benchmark: declares a uniquely named queue ({@code hopper-bench-<id>}, quorum, with its retry tiers and
 * dead queue), starts the workers, publishes, waits until every confirmed task completed, measures, and deletes
 * the queues again, also when the run fails.
 *
 * <p>Not thread-safe; one run per instance and call. Blocks for the whole run. Fails with {@link HopperException}
 * when the broker or Redis cannot be reached, a worker JVM dies, or completions stop for
 * {@link #STALL_TIMEOUT} (the message says how many tasks completed).
 */
final class Benchmark {
    private static final Logger log = LoggerFactory.getLogger(Benchmark.class);
    static final Duration STALL_TIMEOUT = Duration.ofSeconds(60);

    private final BenchSettings settings;

    Benchmark(BenchSettings settings) {
        this.settings = requireNonNull(settings, "settings");
    }

    BenchReport run() {
        BenchQueue queue = BenchQueue.forRun(settings);
        ThreadCpuLedger ledger = new ThreadCpuLedger();
        try (BrokerConnection admin = BrokerConnection.open(BrokerConfig.builder(settings.brokerUri())
                .connectionName("hopper-bench-admin").build())) {
            queue.declare(admin.amqp());
            log.info("bench queue declared queue={}", queue.name());
            // Ctrl-C or a kill during the run: delete the queues on the way out (worker JVMs see their input close
            // and exit by themselves).
            Thread cleanup = new Thread(() -> deleteOnExit(queue), "hopper-bench-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            BenchReport report;
            try {
                report = measure(queue, ledger);
            } catch (RuntimeException e) {
                try {
                    queue.delete(admin.amqp());
                } catch (RuntimeException failed) {
                    e.addSuppressed(failed);
                }
                throw e;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                } catch (IllegalStateException shuttingDown) {
                    // The hook is running or about to: it deletes the queues.
                }
            }
            queue.delete(admin.amqp());
            return report;
        }
    }

    /** For the progress line: what the run is doing and how many tasks completed so far. Any thread. */
    String progress() {
        WorkerSide w = running;
        long n = w == null ? 0 : w.completed();
        return "bench: " + phase + ", " + n + " tasks completed" + (settings.tasks() > 0 ? " of " + settings.tasks()
                + (settings.warmup() > 0 && phase.equals("warm-up") ? " (warm-up " + settings.warmup() + ")" : "") : "");
    }

    private volatile @Nullable WorkerSide running;
    private volatile String phase = "starting";

    private BenchReport measure(BenchQueue queue, ThreadCpuLedger ledger) {
        @Nullable CoordinationStore producerStore = null;
        @Nullable CoordinationStore workerStore = null;
        PublisherPool publishers = null;
        WorkerSide workers = null;
        StorePingProbe ping = null;
        try {
            producerStore = ledger.asPublisher(() -> {
                CoordinationStore st = queue.openStore(settings.store(), settings.redisUri());
                if (st != null) {
                    // The Redis client connects on first use: connect now, so its threads count as publisher's.
                    st.currentRevision("hopper-bench-connect");
                }
                return st;
            });
            publishers = new PublisherPool(settings, queue, producerStore, ledger);
            publishers.open();
            if (settings.publishOnly()) {
                workers = new NoWorkers();
            } else if (settings.workers() == 0) {
                // One in-memory store is shared by producer and worker, as in one process; Redis gets a client each.
                workerStore = settings.store() == BenchSettings.Store.MEMORY ? producerStore
                        : queue.openStore(settings.store(), settings.redisUri());
                workers = new InProcessWorker(settings, queue, workerStore, ledger);
            } else {
                workers = new WorkerJvms(settings, queue);
            }
            workers.start();
            running = workers;
            if (settings.warmup() > 0) {
                phase = "warm-up";
                PublisherPool.Stats warm = publishers.run(settings.warmup(), Duration.ZERO);
                awaitCompletions(workers, warm.confirmed());
                workers.resetMeasurements();
                log.info("bench warm-up done tasks={}", warm.confirmed());
            }
            if (settings.rate() > 0 && settings.store() == BenchSettings.Store.REDIS) {
                // A paced run measures latency: beside the lock check, the bare round trip on this machine now.
                ping = new StorePingProbe(settings.redisUri());
                ping.start();
            }
            phase = "measuring";
            Map<ThreadCpuLedger.Role, Long> cpu0 = ledger.sample();
            long process0 = ThreadCpuLedger.processCpuNanos();
            PublisherPool.Stats published = publishers.run();
            phase = "all published, draining";
            if (!settings.publishOnly()) {
                awaitCompletions(workers, published.confirmed());
            }
            Map<ThreadCpuLedger.Role, Long> cpu1 = ledger.sample();
            long processCpu = ThreadCpuLedger.processCpuNanos() - process0;
            WorkerStats done = workers.finish();
            long publisherCpu = settings.workers() == 0
                    ? cpu1.get(ThreadCpuLedger.Role.PUBLISHER) - cpu0.get(ThreadCpuLedger.Role.PUBLISHER)
                    : processCpu;
            Histogram pings = ping == null ? new Histogram(3) : ping.roundTrips();
            return report(queue, published, done, publisherCpu, processCpu, pings);
        } finally {
            closeQuietly(ping);
            closeQuietly(publishers);
            closeQuietly(workers);
            if (workerStore != null && workerStore != producerStore) {
                closeQuietly(workerStore);
            }
            closeQuietly(producerStore);
        }
    }

    /** The worker side of a publish-only run: nobody consumes. */
    private static final class NoWorkers implements WorkerSide {
        @Override
        public void start() {}

        @Override
        public void resetMeasurements() {}

        @Override
        public long completed() {
            return 0;
        }

        @Override
        public WorkerStats finish() {
            return new WorkerStats(0, RunHistograms.empty(), Map.of(), 0, "threads", 0, 0, 0);
        }

        @Override
        public void close() {}
    }

    private void deleteOnExit(BenchQueue queue) {
        try (BrokerConnection c = BrokerConnection.open(BrokerConfig.builder(settings.brokerUri())
                .connectionName("hopper-bench-cleanup").build())) {
            queue.delete(c.amqp());
            log.warn("bench interrupted; queues of {} deleted", queue.name());
        } catch (RuntimeException e) {
            log.warn("bench interrupted; queues of {} not deleted: {}", queue.name(), e.getMessage());
        }
    }

    private void awaitCompletions(WorkerSide workers, long target) {
        long last = -1;
        long lastProgressAt = System.nanoTime();
        while (true) {
            long n = workers.completed();
            if (n >= target) {
                return;
            }
            if (n != last) {
                last = n;
                lastProgressAt = System.nanoTime();
            } else if (System.nanoTime() - lastProgressAt > STALL_TIMEOUT.toNanos()) {
                throw new HopperException("the benchmark stalled: " + n + " of " + target + " tasks completed and none "
                        + "in the last " + STALL_TIMEOUT.toSeconds() + "s; check the worker log above");
            }
            if (workers instanceof WorkerJvms jvms && !jvms.exited().isEmpty()) {
                throw new HopperException("worker JVM(s) " + jvms.exited() + " exited during the run after "
                        + n + " of " + target + " completions; see their log above");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HopperException("interrupted while waiting for completions", e);
            }
        }
    }

    private BenchReport report(BenchQueue queue, PublisherPool.Stats p, WorkerStats w, long publisherCpuNanos,
            long processCpuNanos, Histogram storePingMicros) {
        double publishSeconds = seconds(p.lastConfirmMicros() - p.firstPublishMicros());
        double completionSeconds = seconds(w.lastCompletionMicros() - p.firstPublishMicros());
        RunHistograms h = w.histograms();
        return new BenchReport(settings.describe(), queue.name(), p.confirmed(), p.failed(), p.firstFailure(),
                w.completed(), w.otherOutcomes(), publishSeconds, rate(p.confirmed(), publishSeconds),
                completionSeconds, rate(w.completed(), completionSeconds), BenchReport.Latency.of(h.endToEnd()),
                BenchReport.Latency.of(h.handler()), BenchReport.Latency.of(h.lockCheck()),
                BenchReport.Latency.of(storePingMicros),
                publisherCpuNanos / 1e9, w.cpuNanos() / 1e9,
                w.completed() == 0 ? 0 : w.cpuNanos() / 1e3 / w.completed(), w.cpuSource(),
                processCpuNanos / 1e9, w.heapStartBytes(), w.heapEndBytes(), p.bodyBytes());
    }

    private static double seconds(long micros) {
        return Math.max(0, micros) / 1e6;
    }

    private static double rate(long count, double seconds) {
        return seconds <= 0 ? 0 : count / seconds;
    }

    private static void closeQuietly(@Nullable AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            log.warn("bench resource did not close cleanly: {}", e.toString());
        }
    }
}
