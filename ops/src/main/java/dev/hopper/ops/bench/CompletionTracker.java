package dev.hopper.ops.bench;

import dev.hopper.consumer.Outcome;
import dev.hopper.consumer.WorkerListener;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Counts a worker's settlements and records the end-to-end latency of each completed task: from its publish
 * ({@code x-hopper-published-at}) to the end of its handler, which is the worker's lag (publish to handler start,
 * so it includes queueing, delivery, decoding and the lock and revision check) plus the handler's duration.
 * Completions are counted when the worker reports the settlement, after the ack. Beside it, separately: the
 * handler's run time of each completed task, and the lock and revision check of every settlement that took one
 * ({@link Settled#lockCheck()}: keyed tasks), so that a latency run can tell the check's cost from the handler's.
 *
 * <p>Thread-safe: worker threads call {@link #onSettled} concurrently; readers may call anything at any time.
 */
final class CompletionTracker implements WorkerListener {
    private final Clock clock;
    private final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(3);
    private final ConcurrentHistogram handlerMicros = new ConcurrentHistogram(3);
    private final ConcurrentHistogram lockCheckMicros = new ConcurrentHistogram(3);
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong lastCompletionMicros = new AtomicLong();
    private final Map<String, LongAdder> otherOutcomes = new ConcurrentHashMap<>();

    CompletionTracker(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void onSettled(Settled event) {
        Duration check = event.lockCheck();
        if (check != null) {
            // Every answered check counts, busy ones too: it is the store call's latency, whatever the answer.
            lockCheckMicros.recordValue(Math.max(0, micros(check)));
        }
        if (event.outcome() != Outcome.SUCCESS) {
            otherOutcomes.computeIfAbsent(event.outcome().tagValue(), k -> new LongAdder()).increment();
            return;
        }
        Duration lag = event.lag();
        Duration took = event.handlerDuration();
        if (lag != null && took != null) {
            // Publisher and worker clocks are the same wall clock on one machine; clamp tiny negative skews.
            latencyMicros.recordValue(Math.max(0, micros(lag.plus(took))));
        }
        if (took != null) {
            handlerMicros.recordValue(Math.max(0, micros(took)));
        }
        lastCompletionMicros.accumulateAndGet(epochMicros(clock.instant()), Math::max);
        completed.incrementAndGet();
    }

    /** Forgets everything recorded so far (after a warm-up, when no task is in flight). */
    void reset() {
        latencyMicros.reset();
        handlerMicros.reset();
        lockCheckMicros.reset();
        completed.set(0);
        lastCompletionMicros.set(0);
        otherOutcomes.clear();
    }

    long completed() {
        return completed.get();
    }

    /** Wall-clock time of the last completion in microseconds since the epoch; 0 before the first. */
    long lastCompletionMicros() {
        return lastCompletionMicros.get();
    }

    /** Settlements other than success (retried, dead, lock_busy, ...), by outcome tag. */
    Map<String, Long> otherOutcomes() {
        Map<String, Long> out = new TreeMap<>();
        otherOutcomes.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** A copy of the end-to-end latencies so far, in microseconds. */
    Histogram latencies() {
        return latencyMicros.copy();
    }

    /** Copies of all three histograms so far (end to end, handler, lock check), in microseconds. */
    RunHistograms histograms() {
        return new RunHistograms(latencyMicros.copy(), handlerMicros.copy(), lockCheckMicros.copy());
    }

    static long epochMicros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
    }

    private static long micros(Duration d) {
        return d.getSeconds() * 1_000_000L + d.getNano() / 1_000;
    }
}
