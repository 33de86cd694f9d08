package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.LockResult;
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
     * @param shuttingDown the worker was shutting down when the delivery reached a handler thread
     */
    record Arrival(long deliveryTag, boolean redelivered, int deliveryCount, Reading reading, String lockOwner,
            boolean shuttingDown) {
        Arrival {
            requireNonNull(reading, "reading");
            requireNonNull(lockOwner, "lockOwner");
        }
    }

    private final Arrival arrival;
    private @Nullable Boolean completedBefore;
    private boolean storeUnavailable;
    private @Nullable Boolean admitted;
    private @Nullable Boolean startPermitted;
    private @Nullable LockResult lock;
    private long lockRequestedAtNanos;
    private long lockAnsweredAtNanos;
    private @Nullable HandlerOutcome handler;
    private @Nullable OptionalLong revisionAfter;
    private boolean completionRecorded;
    private FollowUpFacts followUps = FollowUpFacts.NONE;

    private DeliveryFacts(Arrival arrival) {
        this.arrival = requireNonNull(arrival, "arrival");
    }

    static DeliveryFacts arrived(Arrival arrival) {
        return new DeliveryFacts(arrival);
    }

    private DeliveryFacts copy() {
        DeliveryFacts f = new DeliveryFacts(arrival);
        f.completedBefore = completedBefore;
        f.storeUnavailable = storeUnavailable;
        f.admitted = admitted;
        f.startPermitted = startPermitted;
        f.lock = lock;
        f.lockRequestedAtNanos = lockRequestedAtNanos;
        f.lockAnsweredAtNanos = lockAnsweredAtNanos;
        f.handler = handler;
        f.revisionAfter = revisionAfter;
        f.completionRecorded = completionRecorded;
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
                + storeUnavailable + ", admitted=" + admitted + ", startPermitted=" + startPermitted + ", lock=" + lock
                + ", handler=" + handler + ", revisionAfter=" + revisionAfter + ", completionRecorded="
                + completionRecorded + ", followUps=" + followUps + "]";
    }
}
