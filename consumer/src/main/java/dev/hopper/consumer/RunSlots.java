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
 * never exceed the queue's concurrency, whatever number of threads carries the queue's deliveries.
 *
 * <p>History, and why a take waits at all: from the fifth to the seventh session a queue on a network store had a
 * thread per prefetched delivery (up to 64), so that a window of deliveries could wait for the store together while
 * the slots kept the handlers to the concurrency; a delivery that took its lock before its slot waited here with the
 * lock renewed every fifth of its lease ({@link HeldLease}). Since the eighth session a queue has one thread per slot
 * ({@code Worker.deliveryThreads}): a thread holds at most one slot, so a take finds one free, and a locked delivery
 * waits for its thread instead, its lease kept by {@link DeadlineSweeper#holdQueued}. The wait stays as the bound's
 * enforcement should threads ever outnumber slots again (a thread lent to a wait in hand, say). The decider renews
 * a lease more than a quarter old before the run either way, so the run's lease renewals start from a recent store
 * answer.
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
