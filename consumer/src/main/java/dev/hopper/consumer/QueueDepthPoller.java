package dev.hopper.consumer;

import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.QueueSpec;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refreshes {@code hopper.queue.depth} every few seconds with passive declares (message counts) of each queue's
 * work, retry and dead queues, on a channel of its own: never per message, and a missing queue (which closes a
 * channel with 404) cannot disturb consuming. A kind whose count cannot be read shows NaN until it can. Runs on
 * the worker's timer thread; {@link #close()} is idempotent.
 */
final class QueueDepthPoller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueDepthPoller.class);
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

    private final BrokerConnection connection;
    private final List<QueueSpec> queues;
    private final WorkerMetrics metrics;
    private @Nullable Channel channel;
    private @Nullable ScheduledFuture<?> task;
    private boolean failing;

    QueueDepthPoller(BrokerConnection connection, List<QueueSpec> queues, WorkerMetrics metrics) {
        this.connection = connection;
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
            Channel ch = channel;
            if (ch == null || !ch.isOpen()) {
                if (!connection.isOpen()) {
                    return Double.NaN;
                }
                ch = connection.openChannel();
                channel = ch;
            }
            long n = ch.messageCount(queue);
            if (failing) {
                failing = false;
                log.info("queue depths readable again");
            }
            return n;
        } catch (IOException | AlreadyClosedException | dev.hopper.topology.HopperException e) {
            if (!failing) {
                failing = true;
                log.warn("cannot read queue depth queue={} (shown as NaN until readable): {}", queue, e.toString());
            }
            return Double.NaN;
        }
    }

    @Override
    public synchronized void close() {
        if (task != null) {
            task.cancel(false);
        }
        Channel ch = channel;
        channel = null;
        if (ch != null && ch.isOpen()) {
            try {
                ch.close();
            } catch (IOException | TimeoutException | AlreadyClosedException e) {
                log.debug("error closing depth channel: {}", e.toString());
            }
        }
    }
}
