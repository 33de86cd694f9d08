package dev.hopper.consumer;

import dev.hopper.coordination.StoreUnavailableException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers calls that arrive together from several handler threads into one batched call (one store round trip),
 * without a timer: a call that finds fewer than {@code maxInFlight} batches in flight is sent at once, as a batch of
 * one; calls that arrive while that many are in flight wait for one to be answered and then go out together as the
 * next batch (at most {@code maxBatch}). So a lone call is never delayed, and under load each call waits at most
 * for a batch in flight before its own, each bounded by the store's operation timeout. With {@code maxInFlight} 2 a
 * call that arrives while one batch is out does not wait for it (half the latency at moderate load, where a batch
 * is nearly always out); under full load both are out and batches form as with one.
 *
 * <p>The calling thread of the first call of a batch sends it (there is no batcher thread): when its own answer is
 * in and calls are waiting, it hands the sending on to the oldest waiter and returns. A batch that throws throws
 * for every call in it (a store that did not answer did not answer any of them).
 *
 * <p>{@link #submit} is the same without waiting: the request joins the next batch and the caller goes on; its
 * continuation runs on the thread that sends that batch, right after the answer. Whenever a call waits, some thread
 * is sending, so a submitted call is never left behind: a sending thread whose own answer is in hands the sending on
 * to a waiting {@link #call}er, or, when only submitted calls wait, keeps sending them itself until none is left.
 *
 * <p>Thread-safe. A waiting call is not interruptible (its wait is bounded by the batches ahead of it); an interrupt
 * is kept for the caller. If no answer comes within {@code maxWait} (a bug or a store call that ignores its own
 * timeout), the call throws {@link StoreUnavailableException}.
 *
 * @param <Q> one call's request
 * @param <R> one call's answer
 */
final class CallBatcher<Q, R> {
    private static final Logger log = LoggerFactory.getLogger(CallBatcher.class);
    private final String name;
    private final Function<List<Q>, List<R>> batchCall;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final Object lock = new Object();
    private final ArrayDeque<Pending<Q, R>> waiting = new ArrayDeque<>();
    private final int maxInFlight;
    /** Threads sending (at most maxInFlight); guarded by lock. Whenever a call waits, at least one is sending. */
    private int senders;

    /**
     * @param batchCall answers a batch: one answer per request, in order
     * @param maxBatch most calls in one batch
     * @param maxWait longest a call waits for its answer (a safety bound above the store's own timeouts)
     */
    CallBatcher(String name, Function<List<Q>, List<R>> batchCall, int maxBatch, Duration maxWait) {
        this(name, batchCall, maxBatch, 1, maxWait);
    }

    /**
     * @param batchCall answers a batch: one answer per request, in order
     * @param maxBatch most calls in one batch
     * @param maxInFlight most batches sent at once
     * @param maxWait longest a call waits for its answer (a safety bound above the store's own timeouts)
     */
    CallBatcher(String name, Function<List<Q>, List<R>> batchCall, int maxBatch, int maxInFlight,
            Duration maxWait) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be at least 1, was " + maxBatch);
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1, was " + maxInFlight);
        }
        this.maxInFlight = maxInFlight;
        this.name = name;
        this.batchCall = batchCall;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = maxWait.toNanos();
    }

    private static final class Pending<Q, R> {
        final Q request;
        /** The waiting thread of {@link #call}; null for {@link #submit}. */
        final @Nullable Thread caller;
        /** The continuation of {@link #submit}; null for {@link #call}. */
        final @Nullable BiConsumer<@Nullable R, @Nullable RuntimeException> then;
        // Written before done/sendNext (volatile), read after: the volatile write publishes them.
        @Nullable R answer;
        @Nullable RuntimeException failure;
        volatile boolean done;
        /** This call's thread holds a sending slot; set and cleared only under lock. */
        volatile boolean sendNext;

        Pending(Q request, @Nullable BiConsumer<@Nullable R, @Nullable RuntimeException> then) {
            this.request = request;
            this.caller = then == null ? Thread.currentThread() : null;
            this.then = then;
        }
    }

    /** Answers {@code request} through a batch; throws what the batch threw. */
    R call(Q request) {
        Pending<Q, R> me = new Pending<>(request, null);
        enqueue(me);
        while (true) {
            // A sending slot is checked before the answer: a slot handed to this call must be passed on or given
            // back (sendUntilAnswered does either) even when another sender answered the call meanwhile.
            if (me.sendNext) {
                sendUntilAnswered(me);
            } else if (me.done) {
                break;
            } else {
                awaitTurn(me);
            }
        }
        if (me.failure != null) {
            throw me.failure;
        }
        return me.answer;
    }

    /**
     * Puts {@code request} into the next batch and returns; {@code then} gets its answer (or the batch's failure,
     * answer null) on the thread that sends that batch, which may be this one, before this method returns, when no
     * batch was in flight. {@code then} must not block for long: calls behind it wait while it runs. What it throws
     * is logged and dropped.
     */
    void submit(Q request, BiConsumer<@Nullable R, @Nullable RuntimeException> then) {
        Pending<Q, R> me = new Pending<>(request, then);
        enqueue(me);
        if (me.sendNext) {
            sendUntilAnswered(me);
        }
    }

    /** Queues {@code me}, with a sending slot ({@code sendNext}) when fewer than maxInFlight threads send. */
    private void enqueue(Pending<Q, R> me) {
        synchronized (lock) {
            waiting.add(me);
            if (senders < maxInFlight) {
                senders++;
                me.sendNext = true;
            }
        }
    }

    /** Test seam: threads holding a sending slot. */
    int sendersForTests() {
        synchronized (lock) {
            return senders;
        }
    }

    /** Test seam: calls waiting for a batch (not yet sent). */
    int waitingForTests() {
        synchronized (lock) {
            return waiting.size();
        }
    }

    /**
     * Waits (parked; each call is woken on its own, not all waiters at once) for the answer or for a sending slot to
     * be handed to this call.
     */
    private void awaitTurn(Pending<Q, R> me) {
        boolean interrupted = false;
        long deadline = System.nanoTime() + maxWaitNanos;
        try {
            while (!me.done && !me.sendNext) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    synchronized (lock) {
                        if (me.done || me.sendNext) {
                            break;
                        }
                        if (waiting.remove(me)) {
                            me.failure = new StoreUnavailableException(name + ": no batch answered within "
                                    + Duration.ofNanos(maxWaitNanos));
                            me.done = true;
                            return;
                        }
                    }
                    // Taken into a batch in flight: its answer comes with that batch's store timeout.
                    deadline = System.nanoTime() + maxWaitNanos;
                    continue;
                }
                LockSupport.parkNanos(this, left);
                if (Thread.interrupted()) {
                    interrupted = true; // kept for the caller; parking again would return at once
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Holding a sending slot ({@code me.sendNext}), sends batches (oldest calls first) until {@code me} is answered,
     * then passes the slot to the oldest waiting {@link #call} that has none, or keeps sending while only calls
     * without a thread of their own ({@link #submit}) or with a slot of their own wait, or gives it back when none
     * waits. Slots change hands only under {@code lock}, so exactly {@code senders} threads hold one.
     */
    private void sendUntilAnswered(Pending<Q, R> me) {
        while (true) {
            List<Pending<Q, R>> batch;
            synchronized (lock) {
                if (me.done || waiting.isEmpty()) { // (not done, none waiting: another sender took me along)
                    Pending<Q, R> next = null;
                    if (me.done) {
                        for (Pending<Q, R> p : waiting) {
                            if (p.caller != null && !p.sendNext) {
                                next = p;
                                break;
                            }
                        }
                    }
                    if (next != null) {
                        me.sendNext = false;
                        next.sendNext = true;
                        LockSupport.unpark(next.caller);
                        return;
                    }
                    if (waiting.isEmpty()) {
                        me.sendNext = false;
                        senders--;
                        return;
                    }
                }
                batch = new ArrayList<>(Math.min(maxBatch, waiting.size()));
                while (batch.size() < maxBatch && !waiting.isEmpty()) {
                    batch.add(waiting.poll());
                }
            }
            List<R> answers = null;
            RuntimeException failure = null;
            try {
                List<Q> requests = new ArrayList<>(batch.size());
                for (Pending<Q, R> p : batch) {
                    requests.add(p.request);
                }
                answers = batchCall.apply(requests);
                if (answers.size() != batch.size()) {
                    failure = new IllegalStateException(name + ": " + answers.size() + " answers for "
                            + batch.size() + " calls");
                }
            } catch (RuntimeException e) {
                failure = e;
            } catch (Error e) {
                // Still answer every call of the batch, or its callers and all later ones would wait forever.
                failure = new IllegalStateException(name + ": batch call failed", e);
            }
            for (int i = 0; i < batch.size(); i++) {
                Pending<Q, R> p = batch.get(i);
                if (failure != null) {
                    p.failure = failure;
                } else {
                    p.answer = answers.get(i);
                }
                p.done = true;
                if (p != me && p.caller != null) {
                    LockSupport.unpark(p.caller);
                }
            }
            for (Pending<Q, R> p : batch) {
                if (p.then != null) {
                    try {
                        p.then.accept(p.answer, p.failure);
                    } catch (RuntimeException | Error e) {
                        // Not the store's failure and not the other calls' business: they still get answers.
                        log.error("{}: continuation of a submitted call failed", name, e);
                    }
                }
            }
        }
    }
}
