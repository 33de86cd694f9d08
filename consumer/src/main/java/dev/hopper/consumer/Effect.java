package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Work {@link DeliveryDecider} needs done before it can decide: a store call, a gate, the handler run. The
 * executor ({@link DeliveryEffects}) carries it out and adds its result to the {@link DeliveryFacts}; the decider
 * then decides again. Effects are values (no callbacks), so several deliveries' effects of one kind can be
 * carried out together (one batched store call).
 */
sealed interface Effect extends Step permits Effect.CheckDone, Effect.Admit, Effect.AwaitStart, Effect.Isolate,
        Effect.CountSoloStarts, Effect.RecordSoloStart, Effect.CheckAndLock, Effect.AwaitLock,
        Effect.TakeRunSlot, Effect.RenewLock, Effect.RunHandler, Effect.ReadRevision, Effect.Complete, Effect.ReadClock,
        Effect.Claim, FollowUpEffect {

    /** Is {@code messageId} done (a redelivery of a task completed before its ack)? → {@code completedBefore}. */
    record CheckDone(String messageId) implements Effect {
        public CheckDone {
            requireNonNull(messageId, "messageId");
        }
    }

    /** Ask the queue's circuit breaker for a run → {@code admitted}. */
    record Admit() implements Effect {}

    /** Wait for the queue's rate limiter → {@code startPermitted} (false only when shutdown interrupts). */
    record AwaitStart() implements Effect {}

    /**
     * Take a start slot on this worker → {@code isolation}: a suspect ({@code alone}) waits until nothing else of the
     * worker runs and keeps anything else from starting until it is settled; any other delivery waits while a
     * suspect runs alone. The slot is given back when the delivery is settled.
     */
    record Isolate(boolean alone) implements Effect {}

    /**
     * How many solo starts of suspect {@code messageId} the store holds markers for, looking at most {@code upTo}
     * → {@code soloStarts} (markers are written in order, so the first missing one ends the count).
     */
    record CountSoloStarts(String messageId, int upTo) implements Effect {
        public CountSoloStarts {
            requireNonNull(messageId, "messageId");
        }
    }

    /** Write the marker of this solo start ({@code markerId}, a done-marker) → {@code soloStartRecorded}. */
    record RecordSoloStart(String markerId, Duration ttl) implements Effect {
        public RecordSoloStart {
            requireNonNull(markerId, "markerId");
            requireNonNull(ttl, "ttl");
        }
    }

    /** One atomic store call: check the revision and take the key's lock → {@code lock}. */
    record CheckAndLock(String key, @Nullable Long revision, String owner, Duration lease, boolean lockIfSuperseded)
            implements Effect {
        public CheckAndLock {
            requireNonNull(key, "key");
            requireNonNull(owner, "owner");
            requireNonNull(lease, "lease");
        }
    }

    /**
     * The key was busy: wait in hand and {@code check} again until the lock is ours (or the task superseded), or
     * until the lock has not changed hands for {@code quiet}, or {@code cap} has passed in all, or the worker shuts
     * down → {@code lock} (the last answer) and {@code lockWait}. Each hand-over (a busy answer naming another
     * holder) starts {@code quiet} over: a key that many tasks want is moving, and this task's turn comes soon.
     */
    record AwaitLock(CheckAndLock check, Duration quiet, Duration cap) implements Effect {
        public AwaitLock {
            requireNonNull(check, "check");
            requireNonNull(quiet, "quiet");
            requireNonNull(cap, "cap");
        }
    }

    /**
     * Take one of the queue's run slots ({@link RunSlots}: its concurrency), waiting while all are in use, up to a
     * bound and not past shutdown, renewing {@code lock}'s lease meanwhile → {@code runSlot}. Given back as soon as
     * the handler returned (or when the delivery is settled without running).
     *
     * @param lock the key's lock the delivery holds while it waits, null for a task without one
     */
    record TakeRunSlot(@Nullable HeldLock lock) implements Effect {}

    /**
     * Renew the lease of the lock this delivery took, before its run (it waited for a run slot holding it) →
     * {@code lockRenewal}. Compare-on-owner: false when the lock is no longer this delivery's.
     */
    record RenewLock(String key, String owner, long fencingToken, Duration lease) implements Effect {
        public RenewLock {
            requireNonNull(key, "key");
            requireNonNull(owner, "owner");
            requireNonNull(lease, "lease");
        }
    }

    /**
     * Run the handler with its timeout, renewing {@code lock}'s lease while it runs → {@code handler}.
     *
     * @param lock the key's lock held for this run, null for a task without a key
     * @param coalesced for a coalesced run, the payload and count it claimed (the handler gets them instead of the
     *     delivery's payload); null otherwise
     */
    record RunHandler(Duration timeout, @Nullable HeldLock lock, @Nullable CoalescedRun coalesced)
            implements Effect {
        public RunHandler {
            requireNonNull(timeout, "timeout");
        }

        /** A run that is not coalesced. */
        RunHandler(Duration timeout, @Nullable HeldLock lock) {
            this(timeout, lock, null);
        }
    }

    /** Read the worker's wall clock → {@code now} (for a not-before time). */
    record ReadClock() implements Effect {}

    /**
     * One atomic store call: claim the coalesced run the delivery carries, at the wall-clock time of the call →
     * {@code claim} (with the claimed payload read as the handler's payload type).
     */
    record Claim(dev.hopper.coordination.CoalesceKey key, String messageId,
            dev.hopper.topology.CoalesceWindow window) implements Effect {
        public Claim {
            requireNonNull(key, "key");
            requireNonNull(messageId, "messageId");
            requireNonNull(window, "window");
        }
    }

    /** Read the key's current revision after a failed run → {@code revisionAfter}. */
    record ReadRevision(String key) implements Effect {
        public ReadRevision {
            requireNonNull(key, "key");
        }
    }

    /**
     * In one store step record the done-marker and release the lock (key null: marker only) →
     * {@code completionRecorded}. A store failure here is logged, not fatal: the lock expires with its lease.
     */
    record Complete(@Nullable String key, String owner, long fencingToken, String messageId, Duration doneTtl)
            implements Effect {
        public Complete {
            requireNonNull(owner, "owner");
            requireNonNull(messageId, "messageId");
            requireNonNull(doneTtl, "doneTtl");
        }
    }

    /**
     * A key's lock taken for one run.
     *
     * @param requestedAtNanos when the lock call was sent (monotonic): the lease is counted from then
     */
    record HeldLock(String key, String owner, long fencingToken, Duration lease, long requestedAtNanos) {
        public HeldLock {
            requireNonNull(key, "key");
            requireNonNull(owner, "owner");
            requireNonNull(lease, "lease");
        }
    }
}
