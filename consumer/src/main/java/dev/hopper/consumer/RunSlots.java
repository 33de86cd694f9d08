package dev.hopper.consumer;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The run slots of one queue: its {@code concurrency}, as permits. A delivery takes one right before its handler
 * runs ({@link Effect.TakeRunSlot}) and gives it back as soon as the handler returned, so handlers that run at once
 * never exceed the queue's concurrency, while the queue's threads (more than its concurrency, up to a prefetch
 * window) can all be in their store calls at the same time.
 *
 * <p>Why: a thread that carries a delivery from its lock call to its ack spends most of a short task waiting for the
 * store. With one thread per slot, at most {@code concurrency} lock calls could ever meet in one batch
 * ({@link BatchedStore}); with a prefetch window of threads parked on the store and the slots counted here, a whole
 * window's lock calls and completions go out together, and the handlers still run {@code concurrency} at a time.
 * A lock taken before its slot is held while the delivery waits for one; the decider renews it first when that
 * wait took more than a quarter of the lease (so the run's lease is counted from a recent store answer).
 *
 * <p>Every wait is bounded by {@code maxWait} and ends early when the worker shuts down. Thread-safe; a slot is not
 * owned by a thread (the thread that took it gives it back, but nothing checks).
 */
final class RunSlots {
    /** How often a waiting delivery looks at the shutdown flag. */
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final Semaphore permits;
    private final int concurrency;
    private final Duration maxWait;
    private final LongSupplier nanoTime;

    /** @param maxWait the longest a delivery waits for a slot (longer than any handler may run) */
    RunSlots(int concurrency, Duration maxWait, LongSupplier nanoTime) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
        }
        this.permits = new Semaphore(concurrency, true);
        this.concurrency = concurrency;
        this.maxWait = maxWait;
        this.nanoTime = nanoTime;
    }

    /** Takes a slot, waiting while all are in use; the answer says when, or why not. */
    DeliveryFacts.RunSlot take(BooleanSupplier shuttingDown) {
        if (permits.tryAcquire()) {
            return DeliveryFacts.RunSlot.taken(nanoTime.getAsLong());
        }
        long deadline = nanoTime.getAsLong() + maxWait.toNanos();
        boolean interrupted = false;
        try {
            while (!shuttingDown.getAsBoolean()) {
                long left = deadline - nanoTime.getAsLong();
                if (left <= 0) {
                    return DeliveryFacts.RunSlot.refused(false);
                }
                try {
                    if (permits.tryAcquire(Math.min(left, POLL_NANOS), TimeUnit.NANOSECONDS)) {
                        return DeliveryFacts.RunSlot.taken(nanoTime.getAsLong());
                    }
                } catch (InterruptedException e) {
                    interrupted = true; // kept for the caller; the bound and the shutdown flag end the wait
                }
            }
            return DeliveryFacts.RunSlot.refused(true);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Gives back a slot that {@link #take} granted. */
    void giveBack() {
        permits.release();
    }

    /** Slots in use right now (for tests and gauges). */
    int inUse() {
        return concurrency - permits.availablePermits();
    }
}
