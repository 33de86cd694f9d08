package dev.hopper.ops.bench;

import dev.hopper.coordination.RevisionStore;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.PublishReceipt;
import dev.hopper.publisher.Task;
import dev.hopper.publisher.TaskPublisher;
import dev.hopper.topology.HopperException;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The publishing half of a run: {@code publishers} threads, each with its own connection and {@link TaskPublisher},
 * publishing asynchronously with confirms (each publisher keeps up to its window of 1000 unconfirmed tasks in
 * flight). Tasks are numbered from one shared counter; keyed tasks cycle through {@code keys} keys, so two tasks of
 * one key are {@code keys} tasks apart in the queue. With a rate, one shared Resilience4j rate limiter paces all
 * threads.
 *
 * <p>Used by one thread: {@link #open}, then {@link #run}, then {@link #close}.
 */
final class PublisherPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PublisherPool.class);

    /** What publishing achieved. Times are wall-clock microseconds since the epoch. */
    record Stats(long sent, long confirmed, long failed, @Nullable String firstFailure, long firstPublishMicros,
            long lastConfirmMicros, int bodyBytes) {}

    private final BenchSettings settings;
    private final BenchQueue queue;
    private final @Nullable RevisionStore revisions;
    private final ThreadCpuLedger ledger;
    private final Clock clock = Clock.systemUTC();
    private final List<TaskPublisher> publishers = new ArrayList<>();
    private final AtomicLong next = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong confirmed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong firstPublish = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastConfirm = new AtomicLong();
    private final AtomicReference<@Nullable String> firstFailure = new AtomicReference<>();
    private final Object drained = new Object();
    private volatile int bodyBytes;

    /** @param revisions where keyed tasks get their revision (the producer's side of the store), or null */
    PublisherPool(BenchSettings settings, BenchQueue queue, @Nullable RevisionStore revisions,
            ThreadCpuLedger ledger) {
        this.settings = settings;
        this.queue = queue;
        this.revisions = revisions;
        this.ledger = ledger;
    }

    /** Connects every publisher. */
    void open() {
        for (int i = 0; i < settings.publishers(); i++) {
            BrokerConfig bc = BrokerConfig.builder(settings.brokerUri())
                    .connectionName(ThreadCpuLedger.PUBLISHER_THREAD_PREFIX + "-" + i).build();
            publishers.add(ledger.asPublisher(() -> TaskPublisher.builder().broker(bc).revisionStore(revisions)
                    .build()));
        }
    }

    /** Publishes the run's tasks (or for its duration) and waits for the last confirm. */
    Stats run() {
        return settings.boundedByTasks() ? run(settings.tasks(), Duration.ZERO) : run(0, settings.duration());
    }

    /**
     * Publishes {@code tasks} tasks, or for {@code duration} when {@code tasks} is 0, and waits for the last
     * confirm. Task numbers (and so keys) continue from the previous call; the statistics start afresh.
     */
    Stats run(long tasks, Duration duration) {
        sent.set(0);
        confirmed.set(0);
        failed.set(0);
        firstPublish.set(Long.MAX_VALUE);
        lastConfirm.set(0);
        firstFailure.set(null);
        @Nullable RateLimiter limiter = settings.rate() > 0 ? rateLimiter(settings.rate()) : null;
        long end = tasks > 0 ? next.get() + tasks : Long.MAX_VALUE;
        long deadline = tasks > 0 ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
        String pad = BenchPayload.padFor(settings.payloadBytes());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < publishers.size(); i++) {
            TaskPublisher p = publishers.get(i);
            Thread t = new Thread(() -> {
                try {
                    publishLoop(p, pad, end, deadline, limiter);
                } finally {
                    ledger.publisherThreadEnding();
                }
            }, ThreadCpuLedger.PUBLISHER_THREAD_PREFIX + "-" + i);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HopperException("interrupted while publishing", e);
            }
        }
        awaitConfirms();
        return new Stats(sent.get(), confirmed.get(), failed.get(), firstFailure.get(),
                firstPublish.get() == Long.MAX_VALUE ? 0 : firstPublish.get(), lastConfirm.get(), bodyBytes);
    }

    /**
     * Tasks handed to {@link TaskPublisher#publishAllAsync} at once when publishing flat out: keyed tasks then get
     * their revisions with one store read per chunk, as an application publishing a batch does.
     */
    static final int CHUNK = 200;

    private void publishLoop(TaskPublisher p, String pad, long end, long deadline, @Nullable RateLimiter limiter) {
        int chunkSize = limiter == null ? CHUNK : 1;
        List<Task> chunk = new ArrayList<>(chunkSize);
        while (true) {
            chunk.clear();
            while (chunk.size() < chunkSize) {
                if (limiter != null) {
                    RateLimiter.waitForPermission(limiter);
                }
                if (System.nanoTime() >= deadline) {
                    break;
                }
                long seq = next.getAndIncrement();
                if (seq >= end) {
                    break;
                }
                chunk.add(p.newTask().queue(queue.name()).type(BenchPayload.TYPE)
                        .payload(new BenchPayload(seq, pad))
                        .key(settings.keyed() ? "k" + (seq % settings.keys()) : null).build());
            }
            if (chunk.isEmpty()) {
                return;
            }
            if (firstFailure.get() != null && failed.get() > 100) {
                return; // the broker keeps refusing: stop instead of failing every remaining task slowly
            }
            if (bodyBytes == 0) {
                bodyBytes = chunk.get(0).body().length;
            }
            pending.addAndGet(chunk.size());
            sent.addAndGet(chunk.size());
            firstPublish.accumulateAndGet(CompletionTracker.epochMicros(clock.instant()), Math::min);
            List<CompletableFuture<PublishReceipt>> futures =
                    chunk.size() == 1 ? List.of(p.publishAsync(chunk.get(0))) : p.publishAllAsync(chunk);
            for (var f : futures) {
                f.whenComplete((receipt, error) -> {
                    if (error == null) {
                        confirmed.incrementAndGet();
                        lastConfirm.accumulateAndGet(CompletionTracker.epochMicros(clock.instant()), Math::max);
                    } else {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, error.toString());
                    }
                    if (pending.decrementAndGet() == 0) {
                        synchronized (drained) {
                            drained.notifyAll();
                        }
                    }
                });
            }
            if (chunk.size() < chunkSize) {
                return; // the last, partial chunk
            }
        }
    }

    private void awaitConfirms() {
        // Every future completes: confirmed, nacked, or failed by the publisher's confirm timeout (30 s).
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        synchronized (drained) {
            while (pending.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new HopperException(pending.get() + " publishes got no outcome within 60s");
                }
                try {
                    drained.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HopperException("interrupted while waiting for confirms", e);
                }
            }
        }
    }

    /**
     * Permits in periods of about 10 ms ({@code ceil(rate / 100)} per period, the period chosen so the rate is
     * exact): a publisher that falls behind for a moment catches up within the period instead of losing its slots,
     * and a burst is at most one period's permits.
     */
    static RateLimiterConfig rateLimiterConfig(double perSecond) {
        int permits = (int) Math.max(1, Math.ceil(perSecond / 100));
        long periodNanos = Math.max(1, Math.round(permits * 1_000_000_000d / perSecond));
        return RateLimiterConfig.custom()
                .limitForPeriod(permits)
                .limitRefreshPeriod(Duration.ofNanos(periodNanos))
                .timeoutDuration(Duration.ofMinutes(10))
                .build();
    }

    private static RateLimiter rateLimiter(double perSecond) {
        return RateLimiter.of("hopper-bench-publish", rateLimiterConfig(perSecond));
    }

    @Override
    public void close() {
        for (TaskPublisher p : publishers) {
            try {
                p.close();
            } catch (RuntimeException e) {
                log.warn("bench publisher did not close cleanly: {}", e.toString());
            }
        }
        publishers.clear();
    }
}
