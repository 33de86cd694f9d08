package dev.hopper.consumer;

import dev.hopper.coordination.CoordinationStore;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches every running handler of a worker: one periodic {@link #sweep()} (not a scheduled future per task)
 * stops runs past their timeout, sends lease renewals when due, and stops a run whose lease has not been confirmed
 * for a whole lease.
 *
 * <p>Renewals run on {@code renewals}, an executor of their own (never the sweeper's thread, never a broker
 * thread), at most one in flight per lock, so a store that answers slowly delays no other key's renewal and no
 * timeout. The lease is measured from the moment a successful renewal (or the lock call) was <em>sent</em>: if the
 * store stays silent, the run is stopped (interrupt + {@link TaskContext#leaseLost()}) a safety margin (a fifth of
 * the lease, several sweeps) before that lease ends, whenever the silent call returns. So a run does not go on
 * past the lease the store granted it, and no other worker runs the key meanwhile.
 *
 * <p>Store restarts (issue 17 finding 11): the store's {@link CoordinationStore#incarnation()} (Redis
 * {@code run_id}) is read every {@code restartCheck} on the renewals executor, one read per worker whatever the
 * number of locks, also while no lease is held (so the id is known before a lease is taken: a restart right after a
 * lock is not missed). When it changes, the store has restarted and, without
 * persistence, forgotten every lock, so another worker may run the same keys already: every run holding a lease is
 * stopped at once as lock-lost (retried under its policy, reason {@code lock-lost}), instead of each at its own
 * next renewal. Two runs of one key can thus overlap for at most about {@code restartCheck} after the store answers
 * again (plus one INFO round trip); the fencing token still tells a downstream which write is newer.
 *
 * <p>Locks held before a run (issue 18): a keyed delivery takes its lock before it has a thread (the lock call
 * holds none), and then may wait in its queue's hand-off for one of the queue's {@code concurrency} threads, behind
 * handlers that may run for minutes. {@link #holdQueued} keeps such a lock's lease renewed every fifth of it, on the
 * same renewals executor, until the delivery starts on its thread ({@link QueuedHold#end()}); a renewal refused, or a
 * store restart, marks it lost and the delivery waits like a busy key instead of running. (Before, each such
 * delivery had a thread of its own that waited and renewed, one per prefetched delivery: waking one per task cost
 * about a fifth of the keyed Redis path's CPU.)
 *
 * <p>Costs O(running handlers + queued holds) per sweep; {@link Watch#close()} and {@link QueuedHold#end()} are
 * O(1). Thread-safe.
 */
final class DeadlineSweeper {
    private static final Logger log = LoggerFactory.getLogger(DeadlineSweeper.class);

    private final CoordinationStore store;
    private final Executor renewals;
    private final LongSupplier nanoTime;
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final Set<QueuedHold> holds = ConcurrentHashMap.newKeySet();
    private final long restartCheckNanos;
    private final AtomicBoolean checkingRestart = new AtomicBoolean();
    private volatile long nextRestartCheckNanos;
    private volatile @Nullable String knownIncarnation;

    DeadlineSweeper(CoordinationStore store, Executor renewals, LongSupplier nanoTime) {
        this(store, renewals, nanoTime, Duration.ofSeconds(1));
    }

    /** @param restartCheck how often the store's incarnation is read (whether or not a run holds a lease) */
    DeadlineSweeper(CoordinationStore store, Executor renewals, LongSupplier nanoTime, Duration restartCheck) {
        this.store = store;
        this.renewals = renewals;
        this.nanoTime = nanoTime;
        this.restartCheckNanos = restartCheck.toNanos();
        this.nextRestartCheckNanos = nanoTime.getAsLong();
    }

    /** How often to look for a store restart for the shortest lease: a tenth of it, between 100 ms and 1 s. */
    static Duration restartCheckFor(Duration shortestLease) {
        return Duration.ofMillis(Math.max(100, Math.min(1000, shortestLease.toMillis() / 10)));
    }

    /** How often to sweep for the shortest lease: a twentieth of it, between 10 and 100 ms. */
    static Duration tickFor(Duration shortestLease) {
        long ms = Math.max(10, Math.min(100, shortestLease.toMillis() / 20));
        return Duration.ofMillis(ms);
    }

    /**
     * Watches {@code run} until {@link Watch#close()}.
     *
     * @param timeout the handler timeout, from now
     * @param lock the key's lock held for the run, or null
     */
    Watch watch(HandlerRun run, Duration timeout, Effect.@Nullable HeldLock lock) {
        long now = nanoTime.getAsLong();
        Watch w = new Watch(run, now + timeout.toNanos(), lock, now);
        watches.add(w);
        return w;
    }

    int watching() {
        return watches.size();
    }

    /**
     * Keeps {@code lock}'s lease renewed while its delivery waits for a thread, until {@link QueuedHold#end()}.
     * Never blocks.
     */
    QueuedHold holdQueued(Effect.HeldLock lock) {
        QueuedHold h = new QueuedHold(lock);
        holds.add(h);
        return h;
    }

    int holding() {
        return holds.size();
    }

    /** One pass over the running handlers; called periodically by the worker's sweeper thread. Never blocks. */
    void sweep() {
        for (Watch w : watches) {
            try {
                w.check(nanoTime.getAsLong());
            } catch (RuntimeException e) {
                log.error("deadline sweep failed for a run (a bug in Hopper)", e);
            }
        }
        for (QueuedHold h : holds) {
            try {
                h.check(nanoTime.getAsLong());
            } catch (RuntimeException e) {
                log.error("deadline sweep failed for a held lock (a bug in Hopper)", e);
            }
        }
        long now = nanoTime.getAsLong();
        if (now - nextRestartCheckNanos >= 0 && checkingRestart.compareAndSet(false, true)) {
            nextRestartCheckNanos = now + restartCheckNanos;
            try {
                renewals.execute(this::checkRestart);
            } catch (RejectedExecutionException e) {
                checkingRestart.set(false); // closing, or every renewal thread busy: next sweep
            }
        }
    }

    /** Reads the store's incarnation; a change stops every run that holds a lease (see the class notes). */
    private void checkRestart() {
        try {
            String now = store.incarnation().orElse(null);
            if (now == null) {
                return;
            }
            String was = knownIncarnation;
            knownIncarnation = now;
            if (was == null || was.equals(now)) {
                return;
            }
            int stopped = 0;
            for (Watch w : watches) {
                if (w.lock != null && !w.run.isFinished()) {
                    w.run.stop(HandlerRun.Stop.LEASE_LOST);
                    stopped++;
                }
            }
            for (QueuedHold h : holds) {
                h.lost = true;
            }
            log.warn("coordination store restarted (run id {} -> {}): it may have forgotten every lock; {} runs "
                    + "holding a lease stopped as lock-lost", was, now, stopped);
        } catch (RuntimeException e) {
            // Silent store: leases run out on their own (the sweep stops runs whose lease was not confirmed).
            log.debug("could not read the coordination store's incarnation: {}", e.toString());
        } finally {
            checkingRestart.set(false);
        }
    }

    /** One watched run. */
    final class Watch implements AutoCloseable {
        private final HandlerRun run;
        private final long deadlineNanos;
        private final Effect.@Nullable HeldLock lock;
        private final AtomicBoolean renewing = new AtomicBoolean();
        private volatile long leaseEndsNanos;
        private volatile long nextRenewalNanos;

        private Watch(HandlerRun run, long deadlineNanos, Effect.@Nullable HeldLock lock, long nowNanos) {
            this.run = run;
            this.deadlineNanos = deadlineNanos;
            this.lock = lock;
            if (lock != null) {
                this.leaseEndsNanos = lock.requestedAtNanos() + lock.lease().toNanos();
                this.nextRenewalNanos = nowNanos + lock.lease().toNanos() / 3;
            }
        }

        private void check(long now) {
            if (now - deadlineNanos >= 0) {
                run.stop(HandlerRun.Stop.TIMEOUT);
                return;
            }
            Effect.HeldLock l = lock;
            if (l == null) {
                return;
            }
            if (now - (leaseEndsNanos - l.lease().toNanos() / 5) >= 0) {
                if (!run.isFinished()) {
                    log.warn("lock lease ran out unrenewed key={} token={}; stopping the handler", l.key(),
                            l.fencingToken());
                }
                run.stop(HandlerRun.Stop.LEASE_LOST);
                return;
            }
            if (now - nextRenewalNanos >= 0 && renewing.compareAndSet(false, true)) {
                nextRenewalNanos = now + l.lease().toNanos() / 3;
                try {
                    renewals.execute(() -> renew(l, now));
                } catch (RejectedExecutionException e) {
                    renewing.set(false); // closing, or every renewal thread busy: try again next sweep
                }
            }
        }

        private void renew(Effect.HeldLock l, long sentAtNanos) {
            try {
                if (store.renew(l.key(), l.owner(), l.fencingToken(), l.lease())) {
                    long ends = sentAtNanos + l.lease().toNanos();
                    if (ends - leaseEndsNanos > 0) {
                        leaseEndsNanos = ends;
                    }
                } else {
                    log.warn("lock lost while running key={} token={}", l.key(), l.fencingToken());
                    run.stop(HandlerRun.Stop.LEASE_LOST);
                }
            } catch (RuntimeException e) {
                // Cannot tell while the store is silent: the sweep stops the run once the confirmed lease ends.
                log.debug("lease renewal failed key={}: {}", l.key(), e.toString());
            } finally {
                renewing.set(false);
            }
        }

        @Override
        public void close() {
            watches.remove(this);
        }
    }

    /**
     * The lock of one delivery waiting for a thread: renewed every fifth of its lease (at most one renewal in
     * flight), as {@link RunSlots} renews a lock waiting for a slot, so that it starts with a lease at most about a
     * fifth old and needs no renewal of its own before the run.
     */
    final class QueuedHold {
        private final Effect.HeldLock lock;
        private final AtomicBoolean renewing = new AtomicBoolean();
        private volatile long confirmedFromNanos;
        private volatile boolean renewed;
        private volatile boolean lost;
        private volatile long nextRenewalNanos;

        private QueuedHold(Effect.HeldLock lock) {
            this.lock = lock;
            this.confirmedFromNanos = lock.requestedAtNanos();
            this.nextRenewalNanos = lock.requestedAtNanos() + lock.lease().toNanos() / 5;
        }

        private void check(long now) {
            if (lost || now - nextRenewalNanos < 0 || !renewing.compareAndSet(false, true)) {
                return;
            }
            nextRenewalNanos = now + lock.lease().toNanos() / 5;
            try {
                renewals.execute(() -> renew(now));
            } catch (RejectedExecutionException e) {
                renewing.set(false); // closing, or every renewal thread busy: try again next sweep
            }
        }

        private void renew(long sentAtNanos) {
            try {
                if (!holds.contains(this)) {
                    return; // the delivery started meanwhile: its own path renews from here
                }
                if (store.renew(lock.key(), lock.owner(), lock.fencingToken(), lock.lease())) {
                    if (sentAtNanos - confirmedFromNanos > 0) {
                        confirmedFromNanos = sentAtNanos;
                        renewed = true;
                    }
                } else {
                    log.info("lock lost while its delivery waited for a thread key={} token={}", lock.key(),
                            lock.fencingToken());
                    lost = true;
                }
            } catch (RuntimeException e) {
                // Not confirmed: the next renewal tries again; the decider renews an old lease before the run.
                log.debug("lease renewal of a waiting delivery failed key={}: {}", lock.key(), e.toString());
            } finally {
                renewing.set(false);
            }
        }

        /**
         * Stops keeping the lease (the delivery has its thread): what the wait did to it, or null when nothing
         * changed (no renewal confirmed, none refused).
         */
        DeliveryFacts.@Nullable QueuedLease end() {
            holds.remove(this);
            if (lost) {
                return new DeliveryFacts.QueuedLease(false, confirmedFromNanos);
            }
            return renewed ? new DeliveryFacts.QueuedLease(true, confirmedFromNanos) : null;
        }
    }
}
