package dev.hopper.ops.dlq;

import dev.hopper.ops.dlq.DeadLetterReplayer;
import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * A progress line for large replays on an interactive terminal: rewritten in place on stderr at most five times
 * a second. Thread-safe (updates arrive from confirm callbacks).
 */
final class TtyProgress implements DeadLetterReplayer.Progress {
    /** Below this many dead letters a replay is over before a progress line would help. */
    static final long LARGE = 1000;
    private static final long EVERY_NANOS = 200_000_000L;

    private final PrintWriter err;
    private final LongSupplier nanoTime;
    private long lastNanos;
    private boolean printed;

    /** @param nanoTime a monotonic clock ({@code System::nanoTime}; tests pass their own) */
    TtyProgress(PrintWriter err, LongSupplier nanoTime) {
        this.err = err;
        this.nanoTime = nanoTime;
        this.lastNanos = nanoTime.getAsLong();
    }

    @Override
    public synchronized void update(long replayed, long selected, long depth) {
        long now = nanoTime.getAsLong();
        if (depth < LARGE || now - lastNanos < EVERY_NANOS) {
            return;
        }
        lastNanos = now;
        printed = true;
        err.print("\rreplayed " + replayed + " of " + selected + " selected (" + depth + " dead letters)   ");
        err.flush();
    }

    /** Ends the progress line, if one was printed. */
    synchronized void finish() {
        if (printed) {
            err.println();
            err.flush();
        }
    }
}
