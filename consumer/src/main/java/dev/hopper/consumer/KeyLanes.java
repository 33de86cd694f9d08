package dev.hopper.consumer;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-key lanes of one worker (all its queues: a key's lock is the same whatever the queue): while a delivery for a
 * key is in hand on a handler thread, later deliveries for that key wait here, in arrival order, without taking a
 * handler thread, and each starts when the one before it is done. Deliveries without a key are not laned.
 *
 * <p>Why: two deliveries for one key in one worker can never both run (the key's lock), so handing both to handler
 * threads only makes the second find the key busy and go back through a delay tier (seconds) while the first
 * finishes in milliseconds. In a lane, the second asks for the lock right after the first released it, and the
 * handler threads stay free for other keys. The broker's prefetch still bounds what a worker holds in all.
 *
 * <p>Contract: every {@link #enter} whose {@code start} ran (now or later) must be followed by exactly one
 * {@link #leave} for that key once that delivery is done (settled or handed back), whatever happened; {@code start}
 * must not block (it hands the delivery to the handler pool). Thread-safe; {@code start} runs outside the lock, on
 * the caller's thread (amqp-client's dispatch thread for the first in a lane, the handler thread that left for
 * the next).
 */
final class KeyLanes {
    /** Keys with a delivery in hand → the deliveries waiting behind it (empty while none waits). Guarded by this. */
    private final Map<String, ArrayDeque<Runnable>> lanes = new HashMap<>();

    /** Starts {@code start} now if no delivery for {@code key} is in hand, else once the ones before it left. */
    void enter(String key, Runnable start) {
        synchronized (this) {
            ArrayDeque<Runnable> waiting = lanes.get(key);
            if (waiting != null) {
                waiting.add(start);
                return;
            }
            lanes.put(key, new ArrayDeque<>(2));
        }
        start.run();
    }

    /** The delivery in hand for {@code key} is done: starts the next one waiting for the key, if any. */
    void leave(String key) {
        Runnable next;
        synchronized (this) {
            ArrayDeque<Runnable> waiting = lanes.get(key);
            if (waiting == null) {
                throw new IllegalStateException("leave without enter for a key");
            }
            next = waiting.poll();
            if (next == null) {
                lanes.remove(key);
            }
        }
        if (next != null) {
            next.run();
        }
    }

    /** Deliveries waiting behind another of their key (not counting those in hand), for tests and gauges. */
    synchronized int waiting() {
        int n = 0;
        for (ArrayDeque<Runnable> q : lanes.values()) {
            n += q.size();
        }
        return n;
    }
}
