package dev.hopper.ops.dlq;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.ConfirmedChannel;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueNames;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends dead letters back to their work queue: {@code hopper dlq replay}.
 *
 * <p>Guarantees: each selected dead letter is republished through {@code hopper.tasks} (routing key = the
 * destination queue, mandatory, persistent) and acknowledged, which removes it from the dead queue, only after
 * the broker confirmed the copy. A copy that is not confirmed (unroutable, nacked, connection lost) leaves its
 * dead letter in place and stops the run. Unselected dead letters stay in the dead queue in their original
 * order. A crash at any point never loses a message, and duplicates (leaves in both the dead queue and the work
 * queue) at most {@value #MAX_IN_FLIGHT} messages: a copy counts as in flight from its publish until the broker
 * has processed the acknowledgement of its dead letter, which a synchronous round trip on the reading channel
 * establishes before more copies are sent. Duplicates keep their message id, so a handler that deduplicates on
 * it runs each task once.
 *
 * <p>The copy keeps the message id, type, payload and Hopper's headers, minus the broker's {@code x-death},
 * {@code x-first-death-*}, {@code x-last-death-*} and {@code x-delivery-count}; it gains
 * {@code x-hopper-replayed-at}, {@code x-hopper-replayed-by} and an incremented {@code x-hopper-replay-count},
 * and loses {@code x-hopper-dead-reason} (it is no longer dead). The last failure's {@code x-hopper-error-*},
 * {@code x-hopper-failed-at} and {@code x-hopper-worker} headers are kept as history: they describe the failure
 * that was replayed, and a new failure overwrites them.
 *
 * <p>Each call opens its own channels; use from one thread at a time.
 */
public final class DeadLetterReplayer {
    private static final Logger audit = LoggerFactory.getLogger("hopper.audit");
    /**
     * Unconfirmed copies at once: the bound on what a killed replay duplicates. Small on purpose (a window of 256
     * left 204 duplicates after a kill -9); 32 still keeps the broker busy (confirm latency is about a
     * millisecond on a local broker).
     */
    static final int MAX_IN_FLIGHT = 32;
    /** How long the reading thread waits for a free place before it syncs the acknowledgements made so far. */
    private static final Duration SYNC_EVERY = Duration.ofMillis(20);
    private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(30);

    /** Told how far a replay got; called from the replay's threads, keep it cheap. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (replayed, selected, depth) -> {};

        void update(long replayed, long selected, long depth);
    }

    private final BrokerConnection consumeConnection;
    private final BrokerConnection publishConnection;
    private final Clock clock;
    private final Duration idleTimeout;
    private final String replayedBy;

    /**
     * @param consumeConnection reads the dead queue (and carries the acknowledgements)
     * @param publishConnection publishes the copies; a separate connection, so broker flow control on publishing
     *     never holds up acknowledgements (may be the same one in tests)
     * @param replayedBy who replays, {@code user@host}: written to {@code x-hopper-replayed-by} and the audit log
     */
    public DeadLetterReplayer(BrokerConnection consumeConnection, BrokerConnection publishConnection, Clock clock,
            Duration idleTimeout, String replayedBy) {
        this.consumeConnection = requireNonNull(consumeConnection, "consumeConnection");
        this.publishConnection = requireNonNull(publishConnection, "publishConnection");
        this.clock = requireNonNull(clock, "clock");
        this.idleTimeout = requireNonNull(idleTimeout, "idleTimeout");
        this.replayedBy = requireNonNull(replayedBy, "replayedBy");
    }

    /** Replays what {@code request} selects; see the class documentation for the guarantees. */
    public ReplayReport replay(ReplayRequest request, Progress progress) {
        String deadQueue = QueueNames.deadQueue(request.queue());
        Instant now = clock.instant();
        DlqFilter filter = request.filter();
        RateLimiter limiter = request.ratePerSecond() > 0 ? rateLimiter(request.ratePerSecond()) : null;
        AtomicLong selected = new AtomicLong();
        LongAdder replayed = new LongAdder();
        LongAdder failed = new LongAdder();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
        AtomicInteger ackedUnsynced = new AtomicInteger();
        Map<String, Long> byDestination = new ConcurrentHashMap<>();
        List<ReplayReport.Planned> planned = new ArrayList<>();
        List<CompletableFuture<Void>> settled = new ArrayList<>();
        ScanReport report;
        try (DeadQueueScan scan = DeadQueueScan.open(consumeConnection, deadQueue, idleTimeout,
                        DeadQueueScan.MAX_HELD);
                ConfirmedChannel publisher = request.dryRun() ? null
                        : new ConfirmedChannel(publishConnection, MAX_IN_FLIGHT, CONFIRM_TIMEOUT, CONFIRM_TIMEOUT)) {
            DeadQueueScan.Summary summary = scan.run((letter, tag) -> {
                if (firstFailure.get() != null) {
                    return DeadQueueScan.Step.STOP; // a copy was refused: leave the rest for after the fix
                }
                if (!filter.matches(letter, now)) {
                    return DeadQueueScan.Step.CONTINUE;
                }
                long n = selected.incrementAndGet();
                String destination = destination(request, letter);
                if (publisher == null) {
                    planned.add(new ReplayReport.Planned(letter, destination));
                    byDestination.merge(destination, 1L, Long::sum);
                } else {
                    if (limiter != null) {
                        RateLimiter.waitForPermission(limiter);
                    }
                    // A place in the window is given back only once the broker processed the dead letter's ack.
                    takePlace(inFlight, ackedUnsynced, scan);
                    AMQP.BasicProperties props = replayProperties(letter, clock.instant(), replayedBy,
                            request.resetAttempts());
                    settled.add(publisher.publish(QueueNames.TASKS_EXCHANGE, destination, props, letter.body())
                            .handle((ok, error) -> {
                                if (error == null) {
                                    try {
                                        scan.ack(tag);
                                        ackedUnsynced.incrementAndGet(); // after the ack's write: sync covers it
                                        replayed.increment();
                                        byDestination.merge(destination, 1L, Long::sum);
                                    } catch (RuntimeException e) {
                                        inFlight.release();
                                        fail(failed, firstFailure, "replayed copy of " + letter.messageId()
                                                + " was confirmed but " + e.getMessage());
                                    }
                                } else {
                                    inFlight.release();
                                    fail(failed, firstFailure, "copy of " + letter.messageId() + " to '" + destination
                                            + "' not confirmed: " + rootMessage(error));
                                }
                                progress.update(replayed.sum(), selected.get(), scan.depth());
                                return null;
                            }));
                }
                return n < filter.limit() ? DeadQueueScan.Step.CONTINUE : DeadQueueScan.Step.STOP;
            });
            // Every future completes: ConfirmedChannel fails unconfirmed ones on timeout or close.
            CompletableFuture.allOf(settled.toArray(new CompletableFuture<?>[0])).join();
            report = ScanReport.of(summary, deadQueue, selected.get());
        }
        ReplayReport result = new ReplayReport(report, replayed.sum(), failed.sum(), firstFailure.get(),
                new LinkedHashMap<>(byDestination), planned);
        audit.info("dlq replay by={} queue={} filter=\"{}\" to={} reset_attempts={} dry_run={} rate={} scanned={} "
                        + "selected={} replayed={} failed={}",
                replayedBy, request.queue(), filter.describe(), request.to() == null ? "origin" : request.to(),
                request.resetAttempts(), request.dryRun(), request.ratePerSecond(), report.scanned(),
                report.matched(), result.replayed(), result.failed());
        return result;
    }

    /** Waits for a place in the window, syncing acknowledgements (and freeing their places) while it waits. */
    private static void takePlace(Semaphore inFlight, AtomicInteger ackedUnsynced, DeadQueueScan scan) {
        try {
            while (!inFlight.tryAcquire(SYNC_EVERY.toNanos(), TimeUnit.NANOSECONDS)) {
                int acked = ackedUnsynced.getAndSet(0);
                if (acked > 0) {
                    scan.syncAcks();
                    inFlight.release(acked);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HopperException("interrupted while replaying", e);
        }
    }

    private static void fail(LongAdder failed, AtomicReference<String> first, String why) {
        failed.increment();
        first.compareAndSet(null, why);
    }

    private static String destination(ReplayRequest request, DeadLetter letter) {
        if (request.to() != null) {
            return request.to();
        }
        String origin = letter.originQueue();
        return origin != null ? origin : request.queue();
    }

    private static RateLimiter rateLimiter(int perSecond) {
        // One permit per slot of 1/rate seconds: an even pace instead of a burst at the start of every second.
        RateLimiterConfig config = RateLimiterConfig.custom()
                .limitForPeriod(1)
                .limitRefreshPeriod(Duration.ofNanos(Math.max(1, 1_000_000_000L / perSecond)))
                .timeoutDuration(Duration.ofMinutes(1))
                .build();
        return RateLimiter.of("hopper-dlq-replay", config);
    }

    /**
     * The properties of a replayed copy: see the class documentation. A new object; {@code letter}'s
     * properties are not modified.
     */
    static AMQP.BasicProperties replayProperties(DeadLetter letter, Instant now, String replayedBy,
            boolean resetAttempts) {
        Map<String, @Nullable Object> changes = new LinkedHashMap<>();
        changes.put(Headers.DEAD_REASON, null);
        changes.put(Headers.REPLAYED_AT, now.toString());
        changes.put(Headers.REPLAYED_BY, replayedBy);
        changes.put(Headers.REPLAY_COUNT, previousReplays(letter) + 1);
        if (resetAttempts) {
            changes.put(Headers.ATTEMPT, 0);
            changes.put(Headers.FIRST_ATTEMPT_AT, null);
            changes.put(Headers.LOCK_WAITS, null);
        }
        return EnvelopeCodec.republished(letter.properties(), changes);
    }

    private static int previousReplays(DeadLetter letter) {
        try {
            return HeaderValues.count(letter.properties().getHeaders(), Headers.REPLAY_COUNT).orElse(0);
        } catch (HeaderValues.Mistyped e) {
            return 0;
        }
    }

    private static String rootMessage(Throwable error) {
        Throwable t = error;
        while (t.getCause() != null && t.getCause() != t
                && (t instanceof java.util.concurrent.CompletionException || t.getMessage() == null)) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }
}
