package dev.hopper.consumer;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

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
 * A lock taken before its slot is held while the delivery waits for one, renewed every fifth of its lease
 * ({@link HeldLease}); the decider renews it once more before the run when the last confirmed lease is more than a
 * quarter old (the store was silent), so the run's lease renewals start from a recent store answer.
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

    /**
     * The lock a delivery holds while it waits for a slot: kept alive by renewals every fifth of its lease, so a
     * wait behind slow handlers neither loses the lock nor sends the task back through a tier.
     *
     * @param lease the lock's lease
     * @param leaseFromNanos when the current lease was granted (the lock call was sent)
     * @param renew renews the lease: true when confirmed, false when the lock is no longer the delivery's; throws
     *     {@link dev.hopper.coordination.StoreUnavailableException} when the store did not answer
     */
    record HeldLease(Duration lease, long leaseFromNanos, BooleanSupplier renew) {}

    /** Takes a slot, waiting while all are in use; the answer says when, or why not. */
    DeliveryFacts.RunSlot take(BooleanSupplier shuttingDown) {
        return take(shuttingDown, null);
    }

    /**
     * Takes a slot, waiting while all are in use and keeping {@code held} (if any) renewed meanwhile; the answer
     * says when, or why not (shutdown, the bound, or the lock lost: refused by the store, or not confirmed for four
     * fifths of a lease).
     */
    DeliveryFacts.RunSlot take(BooleanSupplier shuttingDown, @Nullable HeldLease held) {
        if (permits.tryAcquire()) {
            return DeliveryFacts.RunSlot.taken(nanoTime.getAsLong());
        }
        long deadline = nanoTime.getAsLong() + maxWait.toNanos();
        long every = held == null ? Long.MAX_VALUE : held.lease().toNanos() / 5;
        long confirmedFrom = held == null ? 0 : held.leaseFromNanos();
        long renewedAt = 0;
        boolean renewed = false;
        long nextRenewal = held == null ? Long.MAX_VALUE : confirmedFrom + every;
        boolean interrupted = false;
        try {
            while (!shuttingDown.getAsBoolean()) {
                long now = nanoTime.getAsLong();
                if (held != null) {
                    if (now - (confirmedFrom + 4 * every) >= 0) {
                        return DeliveryFacts.RunSlot.lost(); // the store stayed silent: the lease may be over
                    }
                    if (now - nextRenewal >= 0) {
                        try {
                            if (!held.renew().getAsBoolean()) {
                                return DeliveryFacts.RunSlot.lost();
                            }
                            confirmedFrom = now;
                            renewedAt = now;
                            renewed = true;
                        } catch (dev.hopper.coordination.StoreUnavailableException e) {
                            // Not confirmed: try again at the next renewal; the lease bound above ends the wait.
                        }
                        now = nanoTime.getAsLong();
                        nextRenewal = now + every;
                    }
                }
                long left = deadline - now;
                if (left <= 0) {
                    return DeliveryFacts.RunSlot.refused(false);
                }
                long step = Math.min(left, POLL_NANOS);
                if (held != null) {
                    step = Math.min(step, Math.max(1, nextRenewal - now));
                }
                try {
                    if (permits.tryAcquire(step, TimeUnit.NANOSECONDS)) {
                        long at = nanoTime.getAsLong();
                        return renewed ? DeliveryFacts.RunSlot.takenRenewed(at, renewedAt)
                                : DeliveryFacts.RunSlot.taken(at);
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
