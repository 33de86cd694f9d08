package dev.hopper.consumer;

import dev.hopper.coordination.CoalesceClaim;
import dev.hopper.coordination.Completion;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.LockRequest;
import dev.hopper.coordination.LockResult;
import dev.hopper.coordination.StoreUnavailableException;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the {@link Effect}s {@link DeliveryDecider} asks for, one delivery at a time, and returns the facts
 * with the effect's result added. It decides nothing: a store that does not answer is reported (to
 * {@link StoreHealth}) and added as a fact. Thread-safe; one per queue.
 */
final class DeliveryEffects {
    private static final Logger log = LoggerFactory.getLogger(DeliveryEffects.class);

    /**
     * The store and whom to tell when it does not answer; {@code nanoTime} stamps lock calls for leases;
     * {@code batched} carries the hot-path calls (shared by the worker's queues so their calls batch together).
     */
    record Store(CoordinationStore store, StoreHealth health, LongSupplier nanoTime, BatchedStore batched) {
        Store(CoordinationStore store, StoreHealth health, LongSupplier nanoTime) {
            this(store, health, nanoTime, new BatchedStore(store));
        }
    }

    private final String queue;
    private final Store store;
    private final DeliveryGate gate;
    private final HandlerRunner runner;
    private final Consumer<String> afterComplete;
    private final FollowUpEffects followUps;
    private final StartSlots slots;
    private final RunSlots runSlots;
    private final BusyKeyWait busyKeys;

    /**
     * @param afterComplete test seam: runs with the message id once a completion is recorded, before the ack
     * @param followUps carries out the follow-up effects and collects a run's follow-ups
     * @param slots the worker's start slots (shared by all its queues), for {@link Effect.Isolate}
     * @param runSlots the queue's run slots (its concurrency), for {@link Effect.TakeRunSlot}
     */
    DeliveryEffects(String queue, Store store, DeliveryGate gate, HandlerRunner runner,
            Consumer<String> afterComplete, FollowUpEffects followUps, StartSlots slots, RunSlots runSlots) {
        this.slots = slots;
        this.runSlots = runSlots;
        this.followUps = followUps;
        this.queue = queue;
        this.store = store;
        this.gate = gate;
        this.runner = runner;
        this.afterComplete = afterComplete;
        this.busyKeys = new BusyKeyWait(store.batched()::checkAndLock, store.nanoTime(), runner::shuttingDown);
    }

    DeliveryFacts run(Effect effect, DeliveryFacts f, @Nullable Map<String, Object> headers) {
        CoordinationStore s = store.store();
        if ((effect instanceof Effect.CheckDone || effect instanceof Effect.CheckAndLock) && store.health().isDown()) {
            return f.withStoreUnavailable(); // known down: fail fast instead of waiting out the store's timeout
        }
        if (effect instanceof Effect.CheckDone c) {
            try {
                return f.withCompletedBefore(store.batched().isCompleted(c.messageId()));
            } catch (StoreUnavailableException e) {
                return storeDown(f, e);
            }
        }
        if (effect instanceof Effect.Admit) {
            return f.withAdmitted(gate.tryAdmit());
        }
        if (effect instanceof Effect.AwaitStart) {
            return f.withStartPermitted(gate.awaitStart());
        }
        if (effect instanceof Effect.Isolate i) {
            return f.withIsolation(slots.take(i.alone()));
        }
        if (effect instanceof Effect.CountSoloStarts c) {
            try {
                int n = 0;
                while (n < c.upTo() && s.isCompleted(DeliveryDecider.soloStartId(c.messageId(), n))) {
                    n++;
                }
                return f.withSoloStarts(n);
            } catch (StoreUnavailableException e) {
                return storeDown(f, e);
            }
        }
        if (effect instanceof Effect.RecordSoloStart r) {
            try {
                s.complete(null, f.arrival().lockOwner(), 0, r.markerId(), r.ttl());
                return f.withSoloStartRecorded();
            } catch (StoreUnavailableException e) {
                return storeDown(f, e);
            }
        }
        if (effect instanceof Effect.CheckAndLock c) {
            long sentAt = store.nanoTime().getAsLong();
            try {
                LockResult r = store.batched().checkAndLock(new LockRequest(c.key(), c.revision(), c.owner(),
                        c.lease(), c.lockIfSuperseded()));
                return f.withLock(r, sentAt, store.nanoTime().getAsLong());
            } catch (StoreUnavailableException e) {
                return storeDown(f, e);
            }
        }
        if (effect instanceof Effect.AwaitLock w) {
            if (!(f.lock() instanceof LockResult.Busy first)) {
                throw new IllegalStateException("AwaitLock without a busy answer: " + f.lock());
            }
            try {
                BusyKeyWait.Result r = busyKeys.await(w, first, f.lockRequestedAtNanos(), f.lockAnsweredAtNanos());
                return f.withLock(r.last(), r.requestedAtNanos(), r.answeredAtNanos()).withLockWait(r.lockWait());
            } catch (StoreUnavailableException e) {
                return storeDown(f, e);
            }
        }
        if (effect instanceof Effect.TakeRunSlot t) {
            Effect.HeldLock l = t.lock();
            return f.withRunSlot(runSlots.take(runner::shuttingDown, l == null ? null
                    : new RunSlots.HeldLease(l.lease(), l.requestedAtNanos(),
                            () -> s.renew(l.key(), l.owner(), l.fencingToken(), l.lease()))));
        }
        if (effect instanceof Effect.RenewLock r) {
            long sentAt = store.nanoTime().getAsLong();
            try {
                boolean renewed = s.renew(r.key(), r.owner(), r.fencingToken(), r.lease());
                return f.withLockRenewal(new DeliveryFacts.LockRenewal(renewed, sentAt));
            } catch (StoreUnavailableException e) {
                return storeDown(f, e);
            }
        }
        if (effect instanceof Effect.RunHandler r) {
            Reading.Readable task = (Reading.Readable) f.reading();
            FollowUpRequests requests = followUps.newRequests(task.envelope());
            HandlerOutcome h = runner.run(r, task, headers, f.lock(), requests);
            // Given back here, not at settlement: the completion and the ack need no slot. (If the run threw, the
            // facts have no handler and giveBackSlot gives it back.)
            DeliveryFacts ran = f.withHandler(h).withFollowUps(f.followUps().withRequested(requests.close()));
            giveBackRunSlot(f);
            return ran;
        }
        if (effect instanceof FollowUpEffect fe) {
            return followUps.run(fe, f);
        }
        if (effect instanceof Effect.ReadClock) {
            return f.withNow(runner.clock().instant());
        }
        if (effect instanceof Effect.Claim c) {
            return claim(c, f, s);
        }
        if (effect instanceof Effect.ReadRevision r) {
            try {
                return f.withRevisionAfter(OptionalLong.of(s.currentRevision(r.key())));
            } catch (RuntimeException e) {
                return f.withRevisionAfter(OptionalLong.empty());
            }
        }
        throw new IllegalArgumentException("carried out by runLater, not run: " + effect);
    }

    /**
     * Whether {@code effect} is carried out by {@link #runLater} rather than {@link #run}: a completion always; a
     * check-and-lock when the thread must not wait ({@code mayWait} false: the delivery has not needed a delivery
     * thread yet). One that reached a delivery thread first (a redelivery's done-marker check, a breaker's admission)
     * waits for its lock there, as it always did, rather than going back and forth between threads.
     */
    static boolean runsLater(Effect effect, boolean mayWait) {
        return effect instanceof Effect.Complete || (!mayWait && effect instanceof Effect.CheckAndLock);
    }

    /**
     * Carries out an effect of {@link #runsLater} without waiting for it: {@code then} gets the facts that follow,
     * {@code bug} an unexpected failure (not the store's silence, which is a fact), on the thread that completes the
     * store's batch: the store client's I/O thread (or this one, for a store that answers at once), which must not
     * wait. The caller goes on there only as far as it can without waiting.
     *
     * <p>The first check-and-lock goes into the store's next lock batch ({@link BatchedStore#checkAndLockThen}): no
     * thread waits for the lock, and the answer is handed straight to a delivery thread by the caller.
     *
     * <p>A completion (done-marker and lock release) goes into the store's next completion batch; what follows it is
     * the ack, settled from the answer without waiting. A completion that fails is logged and counts as recorded, as
     * before batching: the lock expires with its lease, and without a done-marker a redelivery would run again.
     */
    void runLater(Effect effect, DeliveryFacts f, Consumer<DeliveryFacts> then, Consumer<RuntimeException> bug) {
        if (effect instanceof Effect.CheckAndLock c) {
            if (store.health().isDown()) {
                then.accept(f.withStoreUnavailable()); // known down: fail fast instead of waiting out the timeout
                return;
            }
            long sentAt = store.nanoTime().getAsLong();
            store.batched().checkAndLockThen(new LockRequest(c.key(), c.revision(), c.owner(), c.lease(),
                    c.lockIfSuperseded()), (r, failure) -> {
                        if (failure instanceof StoreUnavailableException e) {
                            then.accept(storeDown(f, e));
                        } else if (failure != null) {
                            bug.accept(failure);
                        } else {
                            then.accept(f.withLock(java.util.Objects.requireNonNull(r, "lock answer"), sentAt,
                                    store.nanoTime().getAsLong()));
                        }
                    });
            return;
        }
        Effect.Complete c = (Effect.Complete) effect;
        store.batched().completeThen(new Completion(c.key(), c.owner(), c.fencingToken(), c.messageId(), c.doneTtl()),
                failure -> {
                    if (failure != null) {
                        log.warn("could not record completion queue={} id={} key={} (the lock expires with its lease):"
                                + " {}", queue, c.messageId(), c.key(), failure.toString());
                    }
                    afterComplete.accept(c.messageId());
                    then.accept(f.withCompletionRecorded());
                });
    }

    /**
     * Carries out {@code effect} here if it never waits (or need not wait this time), so that a delivery can go as
     * far as its first store call on the thread it arrived on; null when it might wait: then it is carried out with
     * {@link #run} on a delivery thread. Never blocks, never calls the store. (Admission through a breaker is left
     * to the delivery thread for its timing, not because it waits.)
     */
    @Nullable DeliveryFacts runWithoutWaiting(Effect effect, DeliveryFacts f) {
        if (effect instanceof Effect.Admit) {
            // A breaker admits a run just before it (on a delivery thread): admitted at arrival, a prefetched
            // delivery would still run after the breaker opened instead of going back unrun.
            return gate.hasBreaker() ? null : f.withAdmitted(true);
        }
        if (effect instanceof Effect.ReadClock) {
            return f.withNow(runner.clock().instant());
        }
        if (effect instanceof Effect.AwaitStart) {
            return gate.startsWithoutWaiting() ? f.withStartPermitted(true) : null;
        }
        if (effect instanceof Effect.Isolate i) {
            DeliveryFacts.Isolation isolation = slots.takeWithoutWaiting(i.alone());
            return isolation == null ? null : f.withIsolation(isolation);
        }
        return null;
    }

    /**
     * When {@code next} (an effect {@link #runWithoutWaiting} left to a delivery thread) holds a lock taken for the
     * run, keeps its lease renewed while the delivery waits for that thread; null when there is nothing to keep.
     * Never blocks.
     */
    DeadlineSweeper.@Nullable QueuedHold holdWhileQueued(Effect next) {
        return next instanceof Effect.TakeRunSlot t && t.lock() != null ? runner.holdQueued(t.lock()) : null;
    }

    private DeliveryFacts claim(Effect.Claim c, DeliveryFacts f, CoordinationStore s) {
        java.time.Instant at = runner.clock().instant();
        CoalesceClaim result;
        try {
            result = s.claim(c.key(), c.messageId(), c.window(), at);
        } catch (StoreUnavailableException e) {
            return storeDown(f, e);
        }
        if (!(result instanceof CoalesceClaim.Claimed claimed)) {
            return f.withClaim(new DeliveryFacts.ClaimAnswer(result, at, null, null));
        }
        Reading.Readable task = (Reading.Readable) f.reading();
        try {
            Object payload = task.handler().read(claimed.payload());
            return f.withClaim(new DeliveryFacts.ClaimAnswer(result, at,
                    new CoalescedRun(payload, claimed.payload(), claimed.absorbed()), null));
        } catch (java.io.IOException | RuntimeException e) {
            String problem = e instanceof java.io.IOException io ? dev.hopper.topology.TaskJson.describe(io)
                    : String.valueOf(e.getMessage());
            return f.withClaim(new DeliveryFacts.ClaimAnswer(result, at, null,
                    dev.hopper.topology.Headers.truncate(problem, 300)));
        }
    }

    /** Releases the lock {@code f} still holds (a run that did not complete); the lease covers a failure here. */
    void releaseHeldLock(DeliveryFacts f) {
        LockResult.Acquired held = f.heldLock();
        String key = f.envelope() == null ? null : f.envelope().key();
        if (held == null || key == null) {
            return;
        }
        try {
            store.store().release(key, f.arrival().lockOwner(), held.fencingToken());
        } catch (RuntimeException e) {
            log.warn("could not release lock queue={} key={} (it expires with its lease): {}", queue, key,
                    e.toString());
        }
    }

    /** Gives back the start slot {@code f} holds, if any (once the delivery is settled). */
    void giveBackSlot(DeliveryFacts f) {
        slots.giveBack(f.isolation());
        if (f.handler() == null) {
            giveBackRunSlot(f); // taken, but the handler never ran (or its run threw)
        }
    }

    private void giveBackRunSlot(DeliveryFacts f) {
        DeliveryFacts.RunSlot slot = f.runSlot();
        if (slot != null && slot.taken()) {
            runSlots.giveBack();
        }
    }

    /** Tells the circuit breaker how an admitted delivery went (after it was settled). */
    void report(DeliveryDecider.BreakerReport report, DeliveryFacts f, @Nullable Throwable failure) {
        HandlerOutcome h = f.handler();
        gate.report(report, h == null ? null : h.took(), failure);
    }

    private DeliveryFacts storeDown(DeliveryFacts f, StoreUnavailableException e) {
        store.health().unavailable(e);
        return f.withStoreUnavailable();
    }
}
