package dev.hopper.ops.console;

import dev.hopper.topology.HopperException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One lock per dead queue: only one reader of a dead queue at a time (index refresh, letter lookup, replay,
 * purge), because two consumers on it would interleave its messages and {@code hopper dlq} refuses to start
 * beside another reader. Waits are bounded. One lock per configured queue, so the map is bounded by the config.
 */
final class QueueLocks {
    /** Thrown when the queue stayed busy for the whole wait. */
    static final class Busy extends HopperException {
        private static final long serialVersionUID = 1L;

        Busy(String message) {
            super(message);
        }
    }

    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    <T> T with(String queue, Duration maxWait, Supplier<T> work) {
        ReentrantLock lock = locks.computeIfAbsent(queue, q -> new ReentrantLock(true));
        boolean held;
        try {
            held = lock.tryLock(maxWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Busy("interrupted while waiting for " + queue + ".dead");
        }
        if (!held) {
            throw new Busy(queue + ".dead is busy (an index refresh, replay or purge is running); try again in a "
                    + "moment");
        }
        try {
            return work.get();
        } finally {
            lock.unlock();
        }
    }

    /** True while a refresh, lookup or action holds {@code queue}'s lock. */
    boolean busy(String queue) {
        ReentrantLock lock = locks.get(queue);
        return lock != null && lock.isLocked();
    }

    /** Like {@link #with} but gives up at once when the queue is busy; returns false then. */
    boolean tryRun(String queue, Runnable work) {
        ReentrantLock lock = locks.computeIfAbsent(queue, q -> new ReentrantLock(true));
        if (!lock.tryLock()) {
            return false;
        }
        try {
            work.run();
            return true;
        } finally {
            lock.unlock();
        }
    }
}
