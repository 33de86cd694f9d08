package dev.hopper.consumer;

import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link SettlementSink}s of one consuming channel, coalescing acks: instead of one {@code basic.ack} frame per
 * delivery it sends {@code basic.ack(tag, multiple=true)} over runs of consecutive deliveries that were all settled
 * by ack, at most {@link #FLUSH_NANOS} after the first of them (or at once when {@link #FLUSH_AT} acks wait).
 *
 * <p>Guarantees:
 * <ul>
 *   <li>a multiple ack only ever covers deliveries that were acked: the run starts at the channel's oldest
 *       outstanding delivery (everything delivered before it is settled and its frame sent), so it never covers a
 *       delivery that is unsettled or was rejected/nacked; acks behind an unsettled delivery go out one by one;</li>
 *   <li>every ack is sent within about two flush intervals (an ack behind an unsettled delivery gets one more
 *       interval to join a run), and at once by {@link #flushNow()} (before the channel is closed);</li>
 *   <li>reject and nack frames are sent at once, in order with the ack frames (one lock serializes frames);</li>
 *   <li>generations: deliveries are registered per channel life ({@link #delivered}); when the channel shuts down
 *       (the broker requeues everything unacked on it), the generation dies and its pending acks are dropped, and
 *       a settlement for a dead generation's tag is never sent, so a tag of a dead channel is never acked on a
 *       recovered one.</li>
 * </ul>
 *
 * <p>Threads: {@link #delivered} runs on amqp-client's dispatch thread (one at a time per channel), settlements on
 * delivery threads or, for {@code ackWithoutSending}, on a store client's I/O thread (which only records: its
 * frames go out on the flusher), timed flushes on the worker's ack-flush thread, {@link #channelLost} on
 * amqp-client's I/O thread; none of those waits on a frame except a delivery thread that flushes a full batch inline
 * and the senders themselves. No frame is sent while the state monitor is held.
 */
final class AckCoalescer {
    private static final Logger log = LoggerFactory.getLogger(AckCoalescer.class);
    /** How long the first pending ack waits for others to join it. */
    static final long FLUSH_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Pending acks that make a handler thread flush at once instead of waiting for the timer. */
    static final int FLUSH_AT = 32;

    /** The frames a channel takes; {@link #of} sends them on a real channel. */
    interface Frames {
        void ack(long deliveryTag, boolean multiple) throws IOException;

        void rejectRequeue(long deliveryTag) throws IOException;

        void nackRequeue(long deliveryTag) throws IOException;

        static Frames of(Channel channel) {
            return new Frames() {
                @Override
                public void ack(long deliveryTag, boolean multiple) throws IOException {
                    channel.basicAck(deliveryTag, multiple);
                }

                @Override
                public void rejectRequeue(long deliveryTag) throws IOException {
                    channel.basicReject(deliveryTag, true);
                }

                @Override
                public void nackRequeue(long deliveryTag) throws IOException {
                    channel.basicNack(deliveryTag, false, true);
                }
            };
        }
    }

    private final Frames frames;
    private final ScheduledExecutorService flusher;
    private final LongSupplier nanoTime;
    /** Serializes frames, so a multiple ack can never overtake the frame of a delivery it does not cover. */
    private final ReentrantLock sending = new ReentrantLock();
    private volatile Generation current = new Generation();

    AckCoalescer(Frames frames, ScheduledExecutorService flusher, LongSupplier nanoTime) {
        this.frames = frames;
        this.flusher = flusher;
        this.nanoTime = nanoTime;
    }

    /** A coalescer for {@code channel} that starts a new generation whenever the channel shuts down. */
    static AckCoalescer on(Channel channel, ScheduledExecutorService flusher) {
        AckCoalescer acks = new AckCoalescer(Frames.of(channel), flusher, System::nanoTime);
        // Runs on amqp-client's I/O thread: only a short monitor, no frame.
        channel.addShutdownListener(cause -> acks.channelLost());
        return acks;
    }

    /**
     * Registers a delivery as it arrives (in delivery order) and answers the sink that settles it.
     */
    SettlementSink delivered(long deliveryTag) {
        Generation g = current;
        g.register(deliveryTag);
        return g;
    }

    /** The channel shut down: the broker requeued all its unacked deliveries; forget them. */
    void channelLost() {
        Generation old = current;
        current = new Generation();
        old.die();
    }

    /** Sends every pending ack now (before the channel is closed). */
    void flushNow() {
        current.flush(true);
    }

    private enum State { UNSETTLED, ACKED }

    private static final class Entry {
        State state = State.UNSETTLED;
        long ackedAt;
    }

    /** One channel life: its outstanding deliveries in delivery order. */
    private final class Generation implements SettlementSink {
        private final LinkedHashMap<Long, Entry> outstanding = new LinkedHashMap<>();
        private int pendingAcks;
        private boolean flushScheduled;
        private boolean dead;

        synchronized void register(long tag) {
            if (!dead) {
                outstanding.put(tag, new Entry());
            }
        }

        synchronized void die() {
            dead = true;
            outstanding.clear();
            pendingAcks = 0;
        }

        @Override
        public void ack(long deliveryTag) throws IOException {
            ack(deliveryTag, true);
        }

        /** Records the ack; every frame (a lone ack, a full batch's flush) goes out on the flusher's thread. */
        @Override
        public void ackWithoutSending(long deliveryTag) throws IOException {
            ack(deliveryTag, false);
        }

        private void ack(long deliveryTag, boolean mayWait) throws IOException {
            boolean alone = false;
            boolean flushInline = false;
            boolean schedule = false;
            synchronized (this) {
                if (dead) {
                    log.debug("ack of a delivery of a closed channel dropped tag={} (the broker requeued it)",
                            deliveryTag);
                    return;
                }
                Entry e = outstanding.get(deliveryTag);
                if (e == null || e.state != State.UNSETTLED) {
                    // Not registered here (or settled twice, which Settlement already refuses): one frame.
                    alone = true;
                } else {
                    e.state = State.ACKED;
                    e.ackedAt = nanoTime.getAsLong();
                    pendingAcks++;
                    flushInline = pendingAcks >= FLUSH_AT;
                    if (!flushInline && !flushScheduled) {
                        flushScheduled = true;
                        schedule = true;
                    }
                }
            }
            if (alone) {
                if (mayWait) {
                    sendAlone(deliveryTag);
                } else {
                    onFlusher(() -> {
                        try {
                            sendAlone(deliveryTag);
                        } catch (IOException | RuntimeException e) {
                            log.warn("could not send an ack (if the channel closed, the broker redelivers it): {}",
                                    e.toString());
                        }
                    });
                }
            } else if (flushInline) {
                if (mayWait) {
                    flush(false);
                } else {
                    onFlusher(() -> flush(false));
                }
            } else if (schedule) {
                scheduleFlush();
            }
        }

        /** Runs {@code r} on the flusher now; refused (the worker closes): closeChannel flushes what is pending. */
        private void onFlusher(Runnable r) {
            try {
                flusher.execute(r);
            } catch (RejectedExecutionException e) {
                log.debug("ack flusher closed; the channel's close flushes pending acks");
            }
        }

        @Override
        public void rejectRequeue(long deliveryTag) throws IOException {
            settleOtherwise(deliveryTag, true);
        }

        @Override
        public void nackRequeue(long deliveryTag) throws IOException {
            settleOtherwise(deliveryTag, false);
        }

        private void settleOtherwise(long deliveryTag, boolean reject) throws IOException {
            sending.lock();
            try {
                synchronized (this) {
                    if (dead) {
                        log.debug("{} of a delivery of a closed channel dropped tag={} (the broker requeued it)",
                                reject ? "reject" : "nack", deliveryTag);
                        return;
                    }
                    outstanding.remove(deliveryTag);
                }
                if (reject) {
                    frames.rejectRequeue(deliveryTag);
                } else {
                    frames.nackRequeue(deliveryTag);
                }
            } finally {
                sending.unlock();
            }
        }

        private void sendAlone(long deliveryTag) throws IOException {
            sending.lock();
            try {
                frames.ack(deliveryTag, false);
            } finally {
                sending.unlock();
            }
        }

        private void scheduleFlush() {
            try {
                flusher.schedule(() -> flush(false), FLUSH_NANOS, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // The worker is closing: closeChannel flushes what is pending before the channel closes.
                synchronized (this) {
                    flushScheduled = false;
                }
            }
        }

        /**
         * Sends the pending acks: the run at the head as one frame (multiple when longer than one), acks behind an
         * unsettled delivery one by one once they waited a flush interval ({@code all}: at once).
         */
        void flush(boolean all) {
            boolean reschedule = false;
            sending.lock();
            try {
                List<long[]> toSend = new ArrayList<>();
                synchronized (this) {
                    flushScheduled = false;
                    if (dead) {
                        return;
                    }
                    takeFrames(toSend, all);
                    reschedule = pendingAcks > 0;
                    if (reschedule) {
                        flushScheduled = true;
                    }
                }
                for (long[] f : toSend) {
                    frames.ack(f[0], f[1] == 1);
                }
            } catch (IOException | RuntimeException e) {
                // The channel closed (the broker requeues every unacked delivery of it by itself), or a bug: either
                // way these frames are not sent again; the timer keeps going for acks still pending.
                log.warn("could not send coalesced acks (if the channel closed, the broker redelivers them): {}",
                        e.toString());
            } finally {
                sending.unlock();
                if (reschedule) {
                    scheduleFlush();
                }
            }
        }

        /** Under this monitor: removes what is sent from {@code outstanding}, adds {tag, multiple?1:0} frames. */
        private void takeFrames(List<long[]> out, boolean all) {
            long now = nanoTime.getAsLong();
            boolean atHead = true;
            long runEnd = -1;
            int runLength = 0;
            Iterator<java.util.Map.Entry<Long, Entry>> it = outstanding.entrySet().iterator();
            while (it.hasNext() && pendingAcks > 0) {
                java.util.Map.Entry<Long, Entry> me = it.next();
                Entry e = me.getValue();
                if (e.state == State.UNSETTLED) {
                    atHead = false;
                    continue;
                }
                if (atHead) {
                    runEnd = me.getKey();
                    runLength++;
                    it.remove();
                    pendingAcks--;
                } else if (all || now - e.ackedAt >= FLUSH_NANOS) {
                    out.add(new long[] {me.getKey(), 0});
                    it.remove();
                    pendingAcks--;
                }
            }
            if (runLength > 0) {
                // The head run goes first: the single acks after it are for tags above it.
                out.add(0, new long[] {runEnd, runLength > 1 ? 1 : 0});
            }
        }
    }
}
