package dev.hopper.consumer;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The start slots of one worker (all its queues: a crash takes the whole JVM down), which let a suspect run alone
 * ({@link Effect.Isolate}). Every delivery holds a slot from just before its lock and handler until it is settled;
 * an ordinary delivery takes one, a suspect takes all of them. The semaphore is fair, so once a suspect waits, no
 * ordinary delivery starts before it: the suspect waits only for what was already running. At most one suspect is
 * in hand at a time; another is refused at once (and goes back as a suspect, its count kept).
 *
 * <p>Why: a worker that crashes takes every delivery it holds with it, and RabbitMQ before 4.3 counts the crash
 * against each of them, started or not. While a suspect holds every slot, nothing else of the worker is running or
 * can start, so a crash then is the suspect's own (or the machine's): its count is a count of its own runs.
 *
 * <p>Every wait is bounded by {@code maxWait}; interrupted or past it, the answer is
 * {@link DeliveryFacts.Isolation#REFUSED}. Thread-safe; slots are not owned by threads (a semaphore), so the
 * thread that settles gives them back.
 */
final class StartSlots {
    /** More than any worker runs at once; a suspect takes them all. */
    private static final int ALL = 1 << 20;

    private final Semaphore slots = new Semaphore(ALL, true);
    private final AtomicBoolean suspectInHand = new AtomicBoolean();
    private final Duration maxWait;

    /** @param maxWait the longest a delivery waits for its slot (a suspect's run, or the runs a suspect waits for) */
    StartSlots(Duration maxWait) {
        this.maxWait = maxWait;
    }

    DeliveryFacts.Isolation take(boolean alone) {
        if (alone && !suspectInHand.compareAndSet(false, true)) {
            return DeliveryFacts.Isolation.REFUSED;
        }
        int n = alone ? ALL : 1;
        boolean got;
        try {
            got = slots.tryAcquire(n, maxWait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            got = false;
        }
        if (!got) {
            if (alone) {
                suspectInHand.set(false);
            }
            return DeliveryFacts.Isolation.REFUSED;
        }
        return alone ? DeliveryFacts.Isolation.ALONE : DeliveryFacts.Isolation.SHARED;
    }

    /**
     * {@link #take} for an ordinary delivery when a slot is free right now (and no suspect waits: the semaphore stays
     * fair); null when it would have to wait, or for a suspect ({@code alone}), which always waits in {@link #take}.
     * Never blocks.
     */
    DeliveryFacts.@org.jspecify.annotations.Nullable Isolation takeWithoutWaiting(boolean alone) {
        if (alone) {
            return null;
        }
        try {
            // tryAcquire() without a timeout would barge past a waiting suspect; a zero timeout queues fairly.
            return slots.tryAcquire(1, 0, TimeUnit.NANOSECONDS) ? DeliveryFacts.Isolation.SHARED : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Gives back what {@code taken} took (nothing for {@code REFUSED} or null). */
    void giveBack(DeliveryFacts.@org.jspecify.annotations.Nullable Isolation taken) {
        if (taken == DeliveryFacts.Isolation.SHARED) {
            slots.release(1);
        } else if (taken == DeliveryFacts.Isolation.ALONE) {
            slots.release(ALL);
            suspectInHand.set(false);
        }
    }
}
