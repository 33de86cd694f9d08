package dev.hopper.consumer;

import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deliveries that a queue's delivery threads refuse while the worker closes, carried on by the closing thread once
 * the pools have stopped ({@link Worker#close()}).
 *
 * <p>Why: a delivery can be handed on after the pools were shut: a lane follower released when a handler of its key
 * finishes during the drain, or a lock answer that comes late. Refused, it used to be nacked, which counts a
 * delivery against the queue's delivery limit (and left a lock it took to its lease). Collected here, it goes on
 * through the decider on the closing thread, which sees the worker closing and hands it back as a copy (no delivery
 * counted, its lock released), as the deliveries still queued at close are.
 *
 * <p>States: refusing (before close: a refusal is a bug, answered by the caller's nack), collecting (from
 * {@link #collect()}), sealed (after {@link #carryOn}: later ones are refused again, so nothing waits here after
 * close). Each entry runs or is refused exactly once. Thread-safe; {@link #defer} never blocks beyond a short lock.
 */
final class LateHandOns {
    private static final Logger log = LoggerFactory.getLogger(LateHandOns.class);
    /** A delivery's next step, and what to do instead when it cannot be carried (nack it). */
    private record Entry(Runnable carryOn, Runnable refuse) {}

    private final ArrayDeque<Entry> waiting = new ArrayDeque<>();
    private boolean collecting;
    private boolean sealed;

    /** Starts collecting refused hand-ons: the worker is closing and its pools are about to stop. */
    synchronized void collect() {
        collecting = !sealed;
    }

    /**
     * Keeps a hand-on the pool refused, for the closing thread.
     *
     * @return false when not collecting (before close, or sealed): the caller refuses it now
     */
    synchronized boolean defer(Runnable carryOn, Runnable refuse) {
        if (!collecting || sealed) {
            return false;
        }
        waiting.add(new Entry(carryOn, refuse));
        return true;
    }

    /**
     * On the closing thread, after the pools stopped: carries on every collected entry, and those they hand on in
     * turn (a hand-back lets the next delivery of its key start), until none is left, then seals. Entries taken
     * after {@code deadlineNanos} are refused instead (a hand-back waits for a confirm; the drain timeout bounds
     * close). An entry that throws is refused (if it had not settled, the refusal nacks it).
     *
     * @return how many entries were carried on
     */
    int carryOn(long deadlineNanos) {
        int carried = 0;
        while (true) {
            Entry e;
            synchronized (this) {
                e = waiting.poll();
                if (e == null) {
                    sealed = true;
                    return carried;
                }
            }
            if (System.nanoTime() - deadlineNanos >= 0) {
                e.refuse().run();
                continue;
            }
            try {
                e.carryOn().run();
                carried++;
            } catch (RuntimeException | Error bug) {
                log.error("could not carry on a delivery handed on while closing (a bug in Hopper)", bug);
                e.refuse().run();
            }
        }
    }
}
