package dev.hopper.consumer;

import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.QueueProbe;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refreshes {@code hopper.queue.depth} every few seconds with the counts of each queue's work, retry and dead
 * queues, read through the one depth reader, {@link QueueProbe} (passive declares on a channel of its own): never
 * per message, and a missing queue (which closes the probe's channel with 404) cannot disturb consuming. A kind
 * whose count cannot be read shows NaN until it can. Runs on the worker's timer thread; {@link #close()} is
 * idempotent.
 */
final class QueueDepthPoller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueDepthPoller.class);
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

    private final QueueProbe probe;
    private final List<QueueSpec> queues;
    private final WorkerMetrics metrics;
    private @Nullable ScheduledFuture<?> task;
    private boolean failing;

    QueueDepthPoller(BrokerConnection connection, List<QueueSpec> queues, WorkerMetrics metrics) {
        this.probe = new QueueProbe(connection);
        this.queues = List.copyOf(queues);
        this.metrics = metrics;
    }

    synchronized void start(ScheduledExecutorService timers, Duration every) {
        try {
            task = timers.scheduleWithFixedDelay(this::poll, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("worker closing; queue depths not polled");
        }
    }

    synchronized void poll() {
        for (QueueSpec q : queues) {
            metrics.queueDepth(q.name(), WorkerMetrics.KIND_WORK, count(q.name()));
            double retry = 0;
            for (DelayTier t : q.tiers()) {
                retry += count(q.retryQueue(t));
            }
            metrics.queueDepth(q.name(), WorkerMetrics.KIND_RETRY, retry);
            metrics.queueDepth(q.name(), WorkerMetrics.KIND_DEAD, count(q.deadQueue()));
        }
    }

    private double count(String queue) {
        try {
            // A missing queue reads as NaN (its own 404 closed only the probe's channel).
            double n = probe.counts(queue).map(c -> (double) c.messages()).orElse(Double.NaN);
            if (failing) {
                failing = false;
                log.info("queue depths readable again");
            }
            return n;
        } catch (HopperException e) {
            if (!failing) {
                failing = true;
                log.warn("cannot read queue depth queue={} (shown as NaN until readable): {}", queue, e.getMessage());
            }
            return Double.NaN;
        }
    }

    @Override
    public synchronized void close() {
        if (task != null) {
            task.cancel(false);
        }
        probe.close();
    }
}
