package dev.hopper.ops.bench;

import static java.util.Objects.requireNonNull;

import org.HdrHistogram.Histogram;

/**
 * The worker side's three latency histograms, in microseconds (HdrHistogram, 3 significant digits). Not
 * thread-safe: each holds a copy taken from a {@link CompletionTracker}; {@link #add} merges another run's (worker
 * JVMs).
 *
 * @param endToEnd publish to handler end, per completed task
 * @param handler the handler's run time, per completed task
 * @param lockCheck the lock and revision check (check-and-lock call sent to answered), per settlement that took
 *     one: empty in unkeyed runs
 */
record RunHistograms(Histogram endToEnd, Histogram handler, Histogram lockCheck) {
    RunHistograms {
        requireNonNull(endToEnd, "endToEnd");
        requireNonNull(handler, "handler");
        requireNonNull(lockCheck, "lockCheck");
    }

    static RunHistograms empty() {
        return new RunHistograms(new Histogram(3), new Histogram(3), new Histogram(3));
    }

    /** Adds {@code other}'s values to these histograms. */
    void add(RunHistograms other) {
        endToEnd.add(other.endToEnd);
        handler.add(other.handler);
        lockCheck.add(other.lockCheck);
    }
}
