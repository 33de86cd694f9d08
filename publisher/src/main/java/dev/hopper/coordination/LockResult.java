package dev.hopper.coordination;

import java.time.Duration;

/** The answer of {@link CoordinationStore#checkAndLock}. */
public sealed interface LockResult permits LockResult.Acquired, LockResult.Busy, LockResult.Superseded {

    /**
     * The lock is ours.
     *
     * @param fencingToken grows strictly for the key with every acquisition, across store restarts; pass it to
     *     downstream writes so a stale holder's writes can be refused
     * @param currentRevision the key's revision at acquisition (may be above the message's under refresh)
     */
    record Acquired(long fencingToken, long currentRevision) implements LockResult {}

    /**
     * Another live holder has the lock.
     *
     * @param remainingLease how long until its lease runs out if it is not renewed
     * @param holderToken the fencing token of the run that holds the lock, or {@code 0} when the store cannot tell
     *     (a lock not written by Hopper). Two answers with different tokens mean the lock changed hands between
     *     them: the key is busy but making progress. Renewals keep the token.
     */
    record Busy(Duration remainingLease, long holderToken) implements LockResult {
        /** A busy answer whose holder is not known. */
        public Busy(Duration remainingLease) {
            this(remainingLease, 0);
        }
    }

    /**
     * The message's revision is older than the key's current one and the caller asked not to lock in that case.
     */
    record Superseded(long currentRevision) implements LockResult {}
}
