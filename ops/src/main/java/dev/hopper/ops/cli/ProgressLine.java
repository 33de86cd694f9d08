package dev.hopper.ops.cli;

import static java.util.Objects.requireNonNull;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A progress line on stderr for long work (publishing a big file, a replay, a benchmark). On a terminal it is
 * rewritten in place at most five times a second; elsewhere (CI logs, a pipe) it is a plain line every
 * {@link #PLAIN_EVERY}. Nothing is printed for work that ends before the first interval, and never on stdout, so
 * {@code --json} output stays clean. Thread-safe.
 */
public final class ProgressLine implements AutoCloseable {
    static final Duration TTY_EVERY = Duration.ofMillis(200);
    /** Often enough to show life in a log, rarely enough not to flood it. */
    static final Duration PLAIN_EVERY = Duration.ofSeconds(5);

    private final PrintWriter err;
    private final LongSupplier nanoTime;
    private final boolean tty;
    private final long everyNanos;
    private long lastNanos;
    private boolean printedInPlace;
    private @Nullable ScheduledExecutorService ticker;

    /**
     * @param tty whether {@code err} is a terminal (rewrite in place) or not (plain lines)
     * @param nanoTime a monotonic clock ({@code System::nanoTime}; tests pass their own)
     */
    public ProgressLine(PrintWriter err, boolean tty, LongSupplier nanoTime) {
        this.err = requireNonNull(err, "err");
        this.tty = tty;
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
        this.everyNanos = (tty ? TTY_EVERY : PLAIN_EVERY).toNanos();
        this.lastNanos = nanoTime.getAsLong();
    }

    /** A progress line on this process's stderr stream {@code err}: in place when there is a console. */
    public static ProgressLine onStderr(PrintWriter err) {
        return new ProgressLine(err, System.console() != null, System::nanoTime);
    }

    /** Shows {@code text} if the last line is at least one interval old. */
    public synchronized void update(String text) {
        long now = nanoTime.getAsLong();
        if (now - lastNanos < everyNanos) {
            return;
        }
        lastNanos = now;
        if (tty) {
            err.print("\r" + text + "   ");
            printedInPlace = true;
        } else {
            err.println(text);
        }
        err.flush();
    }

    /**
     * Polls {@code text} on a daemon thread and shows it, until {@link #close()}: for work that runs in one blocking
     * call and exposes its progress as counters.
     */
    public synchronized ProgressLine polling(Supplier<String> text) {
        if (ticker == null) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "hopper-progress");
                t.setDaemon(true);
                return t;
            });
            long every = TTY_EVERY.toMillis();
            ticker.scheduleAtFixedRate(() -> update(text.get()), every, every, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** Stops polling and ends an in-place line, if one was printed. */
    @Override
    public void close() {
        ScheduledExecutorService t;
        synchronized (this) {
            t = ticker;
            ticker = null;
        }
        if (t != null) {
            t.shutdownNow();
            try {
                t.awaitTermination(1, TimeUnit.SECONDS); // a tick in progress finishes its line first
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            if (printedInPlace) {
                err.println();
                err.flush();
                printedInPlace = false;
            }
        }
    }
}
