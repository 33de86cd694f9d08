package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.LockResult;
import java.time.Duration;
import dev.hopper.topology.TaskEnvelope;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * Everything known about one delivery so far: what arrived, then the result of each {@link Effect} carried out
 * for it. Immutable: each {@code with...} returns a copy with one more fact. A null fact is "not known yet", which
 * is what makes {@link DeliveryDecider} ask for the effect that finds it out.
 *
 * <p>To add a decision row that needs a new fact: add the fact here (field + accessor + {@code with...}), the
 * {@link Effect} that finds it out, its case in {@link DeliveryEffects}, and the row in the decider.
 */
final class DeliveryFacts {

    /**
     * What arrived.
     *
     * @param deliveryTag the broker's tag on the consuming channel
     * @param redelivered the broker's {@code redelivered} flag
     * @param deliveryCount the broker's {@code x-delivery-count} (0 when absent or unreadable)
     * @param lockOwner the owner this run uses for its key's lock (unique per delivery)
     * @param shuttingDown the worker was shutting down when the delivery reached a handler thread (observed again
     *     each time it moves to one before its run: {@link DeliveryFacts#withHoldsSeenAgain})
     * @param suspectCrashes for a suspect copy, its {@code x-hopper-suspect} count; {@link #NOT_SUSPECT} otherwise
     * @param held the queue was paused with {@code Worker.pauseHandingBack} (its handler cannot run at all) when
     *     the delivery reached a handler thread
     */
    record Arrival(long deliveryTag, boolean redelivered, int deliveryCount, Reading reading, String lockOwner,
            boolean shuttingDown, int suspectCrashes, boolean held) {
        /** {@link #suspectCrashes} of a delivery that is not a suspect. */
        static final int NOT_SUSPECT = -1;

        Arrival {
            requireNonNull(reading, "reading");
            requireNonNull(lockOwner, "lockOwner");
        }

        /** A delivery that is not a suspect, of a queue that is not held. */
        Arrival(long deliveryTag, boolean redelivered, int deliveryCount, Reading reading, String lockOwner,
                boolean shuttingDown) {
            this(deliveryTag, redelivered, deliveryCount, reading, lockOwner, shuttingDown, NOT_SUSPECT, false);
        }

        boolean suspect() {
            return suspectCrashes != NOT_SUSPECT;
        }
    }

    /** The answer to {@link Effect.Isolate}. */
    enum Isolation {
        /** Runs beside others (no suspect runs alone meanwhile). */
        SHARED,
        /** Runs alone on this worker: nothing else starts until it is settled. */
        ALONE,
        /** Not within the bound (or another suspect is already in hand, or shutdown interrupted the wait). */
        REFUSED
    }

    /**
     * The coordination store's answer to {@link Effect.Claim}.
     *
     * @param at the wall-clock time the claim was made (what a not-due answer is measured against)
     * @param run for a {@link dev.hopper.coordination.CoalesceClaim.Claimed} answer whose payload reads as the
     *     handler's payload type: the run; else null
     * @param problem for a claimed payload that does not read as the handler's payload type: why; else null
     */
    record ClaimAnswer(dev.hopper.coordination.CoalesceClaim result, java.time.Instant at,
            @Nullable CoalescedRun run, @Nullable String problem) {
        ClaimAnswer {
            requireNonNull(result, "result");
            requireNonNull(at, "at");
        }
    }

    /**
     * The answer to {@link Effect.TakeRunSlot}.
     *
     * @param taken a slot was granted (and is held until the handler returned, or the delivery is settled unrun)
     * @param atNanos when it was granted (monotonic), 0 when refused
     * @param stopped refused because the worker is shutting down
     * @param lockLost refused because the lock held while waiting was lost (a renewal refused, or none confirmed
     *     for four fifths of the lease)
     * @param renewed a renewal was confirmed while waiting
     * @param renewedAtNanos when the last renewal confirmed while waiting was sent (the lease counts from then)
     */
    record RunSlot(boolean taken, long atNanos, boolean stopped, boolean lockLost, boolean renewed,
            long renewedAtNanos) {
        /** Taken at {@code atNanos}, the lock (if any) renewed while waiting at {@code renewedAtNanos}. */
        static RunSlot takenRenewed(long atNanos, long renewedAtNanos) {
            return new RunSlot(true, atNanos, false, false, true, renewedAtNanos);
        }

        static RunSlot taken(long atNanos) {
            return new RunSlot(true, atNanos, false, false, false, 0);
        }

        /** Refused: {@code stopped} by shutdown, else past the bound. */
        static RunSlot refused(boolean stopped) {
            return new RunSlot(false, 0, stopped, false, false, 0);
        }

        static RunSlot lost() {
            return new RunSlot(false, 0, false, true, false, 0);
        }
    }

    /**
     * The answer to {@link Effect.RenewLock}: whether the store confirmed the lease, and when the renewal was sent
     * (the renewed lease counts from then).
     */
    record LockRenewal(boolean renewed, long sentAtNanos) {}

    /**
     * The lease of the lock a delivery took before it had a thread, as kept while it waited for one
     * ({@link DeadlineSweeper#holdQueued}): absent when no renewal was due (or none answered), else whether the lock
     * is still the delivery's and when its last confirmed renewal was sent (the lease counts from then).
     */
    record QueuedLease(boolean kept, long confirmedFromNanos) {}

    private final Arrival arrival;
    private @Nullable Boolean completedBefore;
    private boolean storeUnavailable;
    private @Nullable Boolean admitted;
    private @Nullable Boolean startPermitted;
    private @Nullable Isolation isolation;
    private @Nullable Integer soloStarts;
    private boolean soloStartRecorded;
    private @Nullable LockResult lock;
    private long lockRequestedAtNanos;
    private long lockAnsweredAtNanos;
    private @Nullable LockWait lockWait;
    private @Nullable RunSlot runSlot;
    private @Nullable LockRenewal lockRenewal;
    private @Nullable QueuedLease queuedLease;
    private @Nullable HandlerOutcome handler;
    private @Nullable OptionalLong revisionAfter;
    private boolean completionRecorded;
    private java.time.@Nullable Instant now;
    private @Nullable ClaimAnswer claim;
    private FollowUpFacts followUps = FollowUpFacts.NONE;

    private DeliveryFacts(Arrival arrival) {
        this.arrival = requireNonNull(arrival, "arrival");
    }

    static DeliveryFacts arrived(Arrival arrival) {
        return new DeliveryFacts(arrival);
    }

    /**
     * The same facts with the worker's shutdown and the queue's hold observed again: a delivery that went as far as
     * its lock on the thread it arrived on, and then waited for a delivery thread, is handed back unrun if the worker
     * began shutting down (or its queue was held) meanwhile, as it would have been had it waited before its lock.
     */
    DeliveryFacts withHoldsSeenAgain(boolean shuttingDown, boolean held) {
        Arrival a = arrival;
        if (a.shuttingDown() == shuttingDown && a.held() == held) {
            return this;
        }
        return copy(new Arrival(a.deliveryTag(), a.redelivered(), a.deliveryCount(), a.reading(), a.lockOwner(),
                shuttingDown, a.suspectCrashes(), held));
    }

    private DeliveryFacts copy() {
        return copy(arrival);
    }

    private DeliveryFacts copy(Arrival arrival) {
        DeliveryFacts f = new DeliveryFacts(arrival);
        f.completedBefore = completedBefore;
        f.storeUnavailable = storeUnavailable;
        f.admitted = admitted;
        f.startPermitted = startPermitted;
        f.isolation = isolation;
        f.soloStarts = soloStarts;
        f.soloStartRecorded = soloStartRecorded;
        f.lock = lock;
        f.lockRequestedAtNanos = lockRequestedAtNanos;
        f.lockAnsweredAtNanos = lockAnsweredAtNanos;
        f.lockWait = lockWait;
        f.runSlot = runSlot;
        f.lockRenewal = lockRenewal;
        f.queuedLease = queuedLease;
        f.handler = handler;
        f.revisionAfter = revisionAfter;
        f.completionRecorded = completionRecorded;
        f.now = now;
        f.claim = claim;
        f.followUps = followUps;
        return f;
    }

    Arrival arrival() {
        return arrival;
    }

    Reading reading() {
        return arrival.reading();
    }

    /** The envelope, when the delivery's headers could be read. */
    @Nullable TaskEnvelope envelope() {
        return arrival.reading().envelope();
    }

    /** A done-marker exists for the message id: an earlier run completed it and died before its ack. */
    @Nullable Boolean completedBefore() {
        return completedBefore;
    }

    /** A store call needed before the run did not answer. */
    boolean storeUnavailable() {
        return storeUnavailable;
    }

    /** The circuit breaker granted a run (and must hear how it went). */
    @Nullable Boolean admitted() {
        return admitted;
    }

    @Nullable Boolean startPermitted() {
        return startPermitted;
    }

    /** How this delivery may start beside others ({@link Effect.Isolate}); null until asked. */
    @Nullable Isolation isolation() {
        return isolation;
    }

    /** A suspect's solo starts recorded in the store before this one ({@link Effect.CountSoloStarts}). */
    @Nullable Integer soloStarts() {
        return soloStarts;
    }

    /** This solo start's marker is written ({@link Effect.RecordSoloStart}). */
    boolean soloStartRecorded() {
        return soloStartRecorded;
    }

    DeliveryFacts withSoloStarts(int n) {
        DeliveryFacts f = copy();
        f.soloStarts = n;
        return f;
    }

    DeliveryFacts withSoloStartRecorded() {
        DeliveryFacts f = copy();
        f.soloStartRecorded = true;
        return f;
    }

    @Nullable LockResult lock() {
        return lock;
    }

    /** The lock this delivery holds right now, if any (acquired and not yet released by completion). */
    LockResult.@Nullable Acquired heldLock() {
        return lock instanceof LockResult.Acquired a && !completionRecorded ? a : null;
    }

    long lockRequestedAtNanos() {
        return lockRequestedAtNanos;
    }

    long lockAnsweredAtNanos() {
        return lockAnsweredAtNanos;
    }

    @Nullable HandlerOutcome handler() {
        return handler;
    }

    /** The key's revision read after a failed run; empty when the store did not answer. */
    @Nullable OptionalLong revisionAfter() {
        return revisionAfter;
    }

    boolean completionRecorded() {
        return completionRecorded;
    }

    /** The worker's wall clock when the decider asked for it (for a not-before time); null until then. */
    java.time.@Nullable Instant now() {
        return now;
    }

    /** The answer to the claim of a coalesced run; null until claimed. */
    @Nullable ClaimAnswer claim() {
        return claim;
    }

    DeliveryFacts withNow(java.time.Instant instant) {
        DeliveryFacts f = copy();
        f.now = requireNonNull(instant, "instant");
        return f;
    }

    DeliveryFacts withClaim(ClaimAnswer answer) {
        DeliveryFacts f = copy();
        f.claim = requireNonNull(answer, "answer");
        return f;
    }

    DeliveryFacts withCompletedBefore(boolean done) {
        DeliveryFacts f = copy();
        f.completedBefore = done;
        return f;
    }

    DeliveryFacts withStoreUnavailable() {
        DeliveryFacts f = copy();
        f.storeUnavailable = true;
        return f;
    }

    DeliveryFacts withAdmitted(boolean granted) {
        DeliveryFacts f = copy();
        f.admitted = granted;
        return f;
    }

    DeliveryFacts withStartPermitted(boolean permitted) {
        DeliveryFacts f = copy();
        f.startPermitted = permitted;
        return f;
    }

    DeliveryFacts withIsolation(Isolation answer) {
        DeliveryFacts f = copy();
        f.isolation = requireNonNull(answer, "answer");
        return f;
    }

    /**
     * The lock call's answer, when it was sent and when it came back (monotonic nanoseconds: a lease counts from
     * the sending).
     */
    DeliveryFacts withLock(LockResult result, long requestedAtNanos, long answeredAtNanos) {
        DeliveryFacts f = copy();
        f.lock = requireNonNull(result, "result");
        f.lockRequestedAtNanos = requestedAtNanos;
        f.lockAnsweredAtNanos = answeredAtNanos;
        return f;
    }

    /**
     * How a wait in hand for a busy key went ({@link Effect.AwaitLock}).
     *
     * @param waited how long the delivery waited in hand
     * @param handOvers how many times the lock changed hands meanwhile
     * @param stopped the wait ended because the worker is shutting down
     */
    record LockWait(Duration waited, int handOvers, boolean stopped) {
        LockWait {
            requireNonNull(waited, "waited");
        }
    }

    /** The wait in hand for the key's lock, null when the delivery did not wait. */
    @Nullable LockWait lockWait() {
        return lockWait;
    }

    DeliveryFacts withLockWait(LockWait wait) {
        DeliveryFacts f = copy();
        f.lockWait = requireNonNull(wait, "wait");
        return f;
    }

    /** The run slot's answer ({@link Effect.TakeRunSlot}), null until asked. */
    @Nullable RunSlot runSlot() {
        return runSlot;
    }

    DeliveryFacts withRunSlot(RunSlot slot) {
        DeliveryFacts f = copy();
        f.runSlot = requireNonNull(slot, "slot");
        return f;
    }

    /** The renewal of the lock before the run ({@link Effect.RenewLock}), null when none was asked. */
    @Nullable QueuedLease queuedLease() {
        return queuedLease;
    }

    DeliveryFacts withQueuedLease(QueuedLease lease) {
        DeliveryFacts f = copy();
        f.queuedLease = requireNonNull(lease, "lease");
        return f;
    }

    @Nullable LockRenewal lockRenewal() {
        return lockRenewal;
    }

    DeliveryFacts withLockRenewal(LockRenewal renewal) {
        DeliveryFacts f = copy();
        f.lockRenewal = requireNonNull(renewal, "renewal");
        return f;
    }

    DeliveryFacts withHandler(HandlerOutcome outcome) {
        DeliveryFacts f = copy();
        f.handler = requireNonNull(outcome, "outcome");
        return f;
    }

    DeliveryFacts withRevisionAfter(OptionalLong revision) {
        DeliveryFacts f = copy();
        f.revisionAfter = requireNonNull(revision, "revision");
        return f;
    }

    DeliveryFacts withCompletionRecorded() {
        DeliveryFacts f = copy();
        f.completionRecorded = true;
        return f;
    }

    /** What is known about this delivery's follow-ups, join and group ({@link FollowUpEffect}s' results). */
    FollowUpFacts followUps() {
        return followUps;
    }

    DeliveryFacts withFollowUps(FollowUpFacts facts) {
        DeliveryFacts f = copy();
        f.followUps = requireNonNull(facts, "facts");
        return f;
    }

    @Override
    public String toString() {
        return "DeliveryFacts[" + arrival + ", completedBefore=" + completedBefore + ", storeUnavailable="
                + storeUnavailable + ", admitted=" + admitted + ", startPermitted=" + startPermitted + ", isolation="
                + isolation + ", soloStarts=" + soloStarts + ", lock=" + lock + ", runSlot=" + runSlot
                + ", lockRenewal=" + lockRenewal
                + ", queuedLease=" + queuedLease
                + ", handler=" + handler + ", revisionAfter=" + revisionAfter + ", completionRecorded="
                + completionRecorded + ", followUps=" + followUps + ", now=" + now + ", claim=" + claim + "]";
    }
}
