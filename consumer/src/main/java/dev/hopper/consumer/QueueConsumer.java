package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.QueueSpec;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one work queue: owns its channel (manual acks, QoS = prefetch) and hands each delivery to the
 * queue's bounded pool of handler threads, so handlers never run on the connection's I/O thread.
 *
 * <p>Keeps consuming through broker-side trouble: when the broker closes the channel on its own (a channel error,
 * or {@code consumer_timeout} before RabbitMQ 4.3) or cancels the consumer ({@code consumer_timeout} on 4.3+, a
 * deleted queue), amqp-client's automatic recovery does nothing, so this class opens a new channel and
 * subscribes again, retrying with a growing pause. Connection failures are left to automatic recovery, which
 * recovers the channel and the consumer. State changes are synchronized on this object.
 */
final class QueueConsumer implements QueueControl {
    private static final Logger log = LoggerFactory.getLogger(QueueConsumer.class);

    private final BrokerConnection connection;
    private final QueueSpec spec;
    private final DeliveryProcessor processor;
    private final ExecutorService handlers;
    private final ScheduledExecutorService timers;
    private final WorkerListener listener;
    private @Nullable Channel channel;
    private @Nullable String consumerTag;
    private final java.util.EnumSet<Hold> holds = java.util.EnumSet.noneOf(Hold.class);
    private boolean stopped;
    private int prefetch;
    private long resubscribeDelayMs = 200;

    QueueConsumer(BrokerConnection connection, QueueSpec spec, DeliveryProcessor processor, ExecutorService handlers,
            ScheduledExecutorService timers, WorkerListener listener) {
        this.connection = connection;
        this.spec = spec;
        this.processor = processor;
        this.handlers = handlers;
        this.timers = timers;
        this.listener = listener;
        this.prefetch = spec.prefetch();
    }

    String queue() {
        return spec.name();
    }

    /** Opens the channel and subscribes. @throws dev.hopper.topology.HopperException when that fails */
    synchronized void start() {
        subscribe();
    }

    synchronized boolean isConsuming() {
        return consumerTag != null && channel != null && channel.isOpen() && holds.isEmpty() && !stopped;
    }

    /** True while any hold (breaker, store outage, manual pause) stops consumption. */
    synchronized boolean isPaused() {
        return !holds.isEmpty();
    }

    @Override
    public synchronized void pause(Hold hold, String why) {
        if (stopped || !holds.add(hold) || holds.size() > 1) {
            return; // already held for this reason, or already paused for another
        }
        cancelConsumer();
        log.warn("consuming paused queue={} reason={}", spec.name(), why);
        notifyListener(true, why);
    }

    @Override
    public synchronized void resume(Hold hold, String why) {
        if (stopped || !holds.remove(hold) || !holds.isEmpty()) {
            return; // not held for this reason, or still held for another
        }
        log.info("consuming resumed queue={} reason={}", spec.name(), why);
        notifyListener(false, why);
        try {
            subscribe();
        } catch (RuntimeException e) {
            // E.g. the connection is recovering: keep trying rather than stay paused until a restart.
            log.warn("subscribing again failed queue={}: {}", spec.name(), e.getMessage());
            scheduleResubscribe();
        }
    }

    /** Sets basic.qos for the subscription (circuit breaker trials); a live subscription is renewed to apply it. */
    @Override
    public synchronized void changePrefetch(int n, String why) {
        if (n == prefetch) {
            return;
        }
        prefetch = n;
        if (consumerTag != null && holds.isEmpty() && !stopped) {
            // basic.qos applies to consumers started after it; unacked deliveries of the old one settle as usual.
            cancelConsumer();
            subscribe();
        }
    }

    /** Stops consuming for good (shutdown): basic.cancel; the channel stays open so in-flight work can settle. */
    synchronized void stopConsuming() {
        stopped = true;
        cancelConsumer();
    }

    /** Closes the channel; the broker requeues whatever is still unacked on it. */
    synchronized void closeChannel() {
        stopped = true;
        Channel ch = channel;
        channel = null;
        if (ch != null && ch.isOpen()) {
            try {
                ch.close();
            } catch (IOException | TimeoutException | AlreadyClosedException e) {
                log.debug("error closing consumer channel queue={}: {}", spec.name(), e.toString());
            }
        }
    }

    /** Test seam (package-private): the current consuming channel, to provoke a broker-side channel error. */
    synchronized @Nullable Channel channelForTests() {
        return channel;
    }

    private void cancelConsumer() {
        String tag = consumerTag;
        consumerTag = null;
        Channel ch = channel;
        if (tag != null && ch != null && ch.isOpen()) {
            try {
                ch.basicCancel(tag);
            } catch (IOException | AlreadyClosedException e) {
                log.debug("basic.cancel failed queue={}: {}", spec.name(), e.toString());
            }
        }
    }

    private void subscribe() {
        if (stopped || !holds.isEmpty()) {
            return;
        }
        Channel ch = channel;
        if (ch == null || !ch.isOpen()) {
            ch = connection.openChannel();
            channel = ch;
            Channel owned = ch;
            ch.addShutdownListener(cause -> onChannelShutdown(owned, cause));
        }
        try {
            ch.basicQos(prefetch);
            consumerTag = ch.basicConsume(spec.name(), false, new Deliveries(ch));
            resubscribeDelayMs = 200;
            log.info("consuming queue={} prefetch={} concurrency={}", spec.name(), prefetch,
                    spec.concurrency());
        } catch (IOException | AlreadyClosedException e) {
            throw new dev.hopper.topology.HopperException("cannot consume from queue '" + spec.name() + "' on "
                    + connection.redactedUri() + ": " + rootMessage(e) + " (declare the topology first: "
                    + "hopper topology declare)", e);
        }
    }

    private void onChannelShutdown(Channel ch, ShutdownSignalException cause) {
        synchronized (this) {
            if (ch != channel || stopped || cause.isInitiatedByApplication()) {
                return;
            }
            if (cause.isHardError()) {
                // Connection-level: automatic recovery reopens this channel and its consumer.
                return;
            }
            log.warn("broker closed the consumer channel queue={} reason={}; subscribing again", spec.name(),
                    cause.getReason() == null ? cause.getMessage() : cause.getReason().protocolMethodName());
            channel = null;
            consumerTag = null;
        }
        scheduleResubscribe();
    }

    private void scheduleResubscribe() {
        long delay;
        synchronized (this) {
            delay = resubscribeDelayMs;
            resubscribeDelayMs = Math.min(10_000, resubscribeDelayMs * 2);
        }
        try {
            timers.schedule(this::resubscribe, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("worker closing; not resubscribing queue={}", spec.name());
        }
    }

    private void resubscribe() {
        synchronized (this) {
            if (stopped || !holds.isEmpty() || consumerTag != null) {
                return;
            }
            try {
                if (!connection.isOpen()) {
                    // Automatic recovery is at work; try again later.
                    throw new dev.hopper.topology.HopperException("connection down");
                }
                subscribe();
                return;
            } catch (RuntimeException e) {
                log.warn("subscribing again failed queue={}: {}", spec.name(), e.getMessage());
            }
        }
        scheduleResubscribe();
    }

    private void notifyListener(boolean paused, String why) {
        try {
            listener.onConsumingChanged(spec.name(), paused, why);
        } catch (RuntimeException e) {
            log.warn("worker listener failed: {}", e.toString());
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }

    private final class Deliveries extends DefaultConsumer {
        Deliveries(Channel ch) {
            super(ch);
        }

        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
            Channel ch = getChannel();
            try {
                handlers.execute(() -> processor.process(ch, envelope, props, body));
            } catch (RejectedExecutionException e) {
                // Shutting down: hand it straight back.
                try {
                    ch.basicNack(envelope.getDeliveryTag(), false, true);
                } catch (IOException | AlreadyClosedException ignored) {
                    // The channel is closing; the broker requeues the delivery itself.
                }
            }
        }

        @Override
        public void handleCancel(String tag) {
            // Server-initiated cancel: queue deleted, or consumer_timeout on RabbitMQ 4.3+.
            synchronized (QueueConsumer.this) {
                if (!tag.equals(consumerTag)) {
                    return;
                }
                consumerTag = null;
            }
            log.warn("broker cancelled the consumer queue={}; subscribing again", spec.name());
            scheduleResubscribe();
        }
    }
}
