package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Coalesced acks against a recording channel that settles like the broker does (a multiple ack settles every
 * outstanding tag up to it) and fails any frame that would settle a delivery other than as the handler decided.
 */
class AckCoalescerTest {
    private final ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService handlers = Executors.newFixedThreadPool(4);

    @AfterEach
    void stop() {
        flusher.shutdownNow();
        handlers.shutdownNow();
    }

    /** The broker's view of one channel, and what the handlers decided (set before they call the sink). */
    static class RecordingChannel implements AckCoalescer.Frames {
        final Map<Long, String> decided = new ConcurrentHashMap<>();
        final TreeMap<Long, String> outstanding = new TreeMap<>();
        final Map<Long, String> settledAs = new TreeMap<>();
        final List<String> violations = new ArrayList<>();
        final List<String> frames = new ArrayList<>();
        int ackFrames;
        int multipleFrames;

        synchronized void deliver(long tag) {
            outstanding.put(tag, "unsettled");
        }

        synchronized void lost() {
            outstanding.clear(); // the broker requeues everything unacked on the channel
        }

        synchronized int outstandingCount() {
            return outstanding.size();
        }

        @Override
        public synchronized void ack(long tag, boolean multiple) {
            frames.add("ack " + tag + (multiple ? " multiple" : ""));
            ackFrames++;
            if (!outstanding.containsKey(tag)) {
                violations.add("ack of a tag the channel does not have outstanding: " + tag);
                return;
            }
            if (multiple) {
                multipleFrames++;
                for (long t : new ArrayList<>(outstanding.headMap(tag, true).keySet())) {
                    settle(t, "ack", "ack " + tag + " multiple");
                }
            } else {
                settle(tag, "ack", "ack " + tag);
            }
        }

        @Override
        public synchronized void rejectRequeue(long tag) {
            frames.add("reject " + tag);
            settleOne(tag, "reject");
        }

        @Override
        public synchronized void nackRequeue(long tag) {
            frames.add("nack " + tag);
            settleOne(tag, "nack");
        }

        private void settleOne(long tag, String how) {
            if (!outstanding.containsKey(tag)) {
                violations.add(how + " of a tag the channel does not have outstanding: " + tag);
                return;
            }
            settle(tag, how, how + " " + tag);
        }

        private void settle(long tag, String how, String frame) {
            String want = decided.get(tag);
            if (!how.equals(want)) {
                violations.add(frame + " settled tag " + tag + " as " + how + " but it was "
                        + (want == null ? "unsettled" : want));
            }
            outstanding.remove(tag);
            settledAs.put(tag, how);
        }
    }

    @Test
    void twentyThousandRandomSettlementsAreEachSentAsDecidedAndAcksAreCoalesced() throws Exception {
        RecordingChannel ch = new RecordingChannel();
        AckCoalescer acks = new AckCoalescer(ch, flusher, System::nanoTime);
        Random random = new Random(18);
        int deliveries = 20_000;
        Semaphore prefetch = new Semaphore(64);
        for (long tag = 1; tag <= deliveries; tag++) {
            prefetch.acquire();
            ch.deliver(tag);
            SettlementSink sink = acks.delivered(tag);
            long t = tag;
            int roll = random.nextInt(100);
            String how = roll < 85 ? "ack" : roll < 95 ? "reject" : "nack";
            long work = random.nextInt(4) == 0 ? random.nextInt(200_000) : 0;
            handlers.execute(() -> {
                if (work > 0) {
                    LockSupport.parkNanos(work);
                }
                ch.decided.put(t, how);
                try {
                    switch (how) {
                        case "ack" -> sink.ack(t);
                        case "reject" -> sink.rejectRequeue(t);
                        default -> sink.nackRequeue(t);
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                } finally {
                    // Like the broker's prefetch: room only once the settlement has been handed over.
                    prefetch.release();
                }
            });
        }
        handlers.shutdown();
        assertThat(handlers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

        // Every ack goes out within the flush bound without anyone calling flushNow.
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.outstandingCount() == 0);
        synchronized (ch) {
            assertThat(ch.violations).isEmpty();
            assertThat(ch.settledAs).hasSize(deliveries);
            assertThat(ch.settledAs).containsAllEntriesOf(ch.decided);
            long acked = ch.decided.values().stream().filter("ack"::equals).count();
            assertThat(ch.multipleFrames).isPositive();
            assertThat((long) ch.ackFrames).isLessThan(acked);
        }
    }

    @Test
    void acksWithoutSendingNeverSendAFrameOnTheCallingThreadEvenAFullBatchOrALoneAck() throws Exception {
        List<Thread> frameThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
        RecordingChannel ch = new RecordingChannel() {
            @Override
            public synchronized void ack(long tag, boolean multiple) {
                frameThreads.add(Thread.currentThread());
                super.ack(tag, multiple);
            }
        };
        AckCoalescer acks = new AckCoalescer(ch, flusher, System::nanoTime);
        int n = AckCoalescer.FLUSH_AT + 5;
        List<SettlementSink> sinks = new ArrayList<>();
        for (long t = 1; t <= n; t++) {
            sinks.add(deliver(ch, acks, t));
            ch.decided.put(t, "ack");
        }
        for (long t = 1; t <= n; t++) {
            sinks.get((int) t - 1).ackWithoutSending(t); // past FLUSH_AT an ack() would flush on this thread
        }
        long unregistered = n + 1;
        ch.deliver(unregistered); // outstanding on the channel, unknown to the coalescer: a lone frame
        ch.decided.put(unregistered, "ack");
        sinks.get(0).ackWithoutSending(unregistered);

        await().atMost(Duration.ofSeconds(5)).until(() -> ch.outstandingCount() == 0);
        synchronized (ch) {
            assertThat(ch.violations).isEmpty();
            assertThat(ch.multipleFrames).as("the full batch went out coalesced").isPositive();
        }
        assertThat(frameThreads).isNotEmpty().doesNotContain(Thread.currentThread());
    }

    @Test
    void acksBehindAnUnsettledDeliveryGoOutOneByOneNeverAsMultiple() throws Exception {
        RecordingChannel ch = new RecordingChannel();
        AckCoalescer acks = new AckCoalescer(ch, flusher, System::nanoTime);
        SettlementSink s1 = deliver(ch, acks, 1);
        SettlementSink s2 = deliver(ch, acks, 2);
        SettlementSink s3 = deliver(ch, acks, 3);
        SettlementSink s4 = deliver(ch, acks, 4);
        settle(ch, s2, 2, "ack");
        settle(ch, s3, 3, "reject");
        settle(ch, s4, 4, "ack");

        await().atMost(Duration.ofSeconds(5)).until(() -> ch.outstandingCount() == 1);
        settle(ch, s1, 1, "ack");
        await().atMost(Duration.ofSeconds(5)).until(() -> ch.outstandingCount() == 0);
        synchronized (ch) {
            assertThat(ch.violations).isEmpty();
            assertThat(ch.frames).hasSize(4).endsWith("ack 1");
            assertThat(ch.frames.subList(0, 3)).containsExactlyInAnyOrder("reject 3", "ack 2", "ack 4");
        }
    }

    @Test
    void aRunAtTheHeadGoesOutAsOneMultipleAck() throws Exception {
        RecordingChannel ch = new RecordingChannel();
        java.util.concurrent.CountDownLatch release = holdTimer();
        AckCoalescer acks = new AckCoalescer(ch, flusher, System::nanoTime);
        List<SettlementSink> sinks = new ArrayList<>();
        for (long t = 1; t <= 5; t++) {
            sinks.add(deliver(ch, acks, t));
        }
        for (long t = 1; t <= 5; t++) {
            ch.decided.put(t, "ack");
        }
        // The timer is held: flushNow sends what five acks left pending.
        for (long t = 1; t <= 5; t++) {
            sinks.get((int) t - 1).ack(t);
        }
        acks.flushNow();
        release.countDown();
        synchronized (ch) {
            assertThat(ch.violations).isEmpty();
            assertThat(ch.outstanding).isEmpty();
            assertThat(ch.frames).containsExactly("ack 5 multiple");
        }
    }

    @Test
    void settlementsOfADeadChannelGenerationAreNeverSentOnTheRecoveredChannel() throws Exception {
        RecordingChannel ch = new RecordingChannel();
        // The timer thread is held, so nothing is flushed before the channel is lost unless flushNow says so.
        java.util.concurrent.CountDownLatch release = holdTimer();
        AckCoalescer acks = new AckCoalescer(ch, flusher, System::nanoTime);
        SettlementSink old1 = deliver(ch, acks, 1);
        SettlementSink old2 = deliver(ch, acks, 2);
        SettlementSink old3 = deliver(ch, acks, 3);
        ch.decided.put(1L, "ack");
        old1.ack(1); // pending, not yet flushed

        ch.lost();
        acks.channelLost();
        // The recovered channel's tags continue (amqp-client offsets them); the old ones are settled late.
        SettlementSink new4 = deliver(ch, acks, 4);
        ch.decided.put(2L, "ack");
        old2.ack(2);
        ch.decided.put(3L, "reject");
        old3.rejectRequeue(3);
        settle(ch, new4, 4, "ack");
        acks.flushNow();
        release.countDown();

        await().atMost(Duration.ofSeconds(5)).until(() -> ch.outstandingCount() == 0);
        synchronized (ch) {
            assertThat(ch.violations).isEmpty();
            assertThat(ch.frames).containsExactly("ack 4");
        }
    }

    /** Keeps the flush timer's thread busy until the returned latch is released. */
    private java.util.concurrent.CountDownLatch holdTimer() {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        flusher.execute(() -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return release;
    }

    private static SettlementSink deliver(RecordingChannel ch, AckCoalescer acks, long tag) {
        ch.deliver(tag);
        return acks.delivered(tag);
    }

    private static void settle(RecordingChannel ch, SettlementSink sink, long tag, String how) throws Exception {
        ch.decided.put(tag, how);
        switch (how) {
            case "ack" -> sink.ack(tag);
            case "reject" -> sink.rejectRequeue(tag);
            default -> sink.nackRequeue(tag);
        }
    }
}
