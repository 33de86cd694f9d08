package dev.hopper.coordination;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Locks, revisions and done-markers (design.md, "Coordination store"). Implementations are thread-safe.
 *
 * <p>Every method may throw {@link StoreUnavailableException} when the store does not answer within its
 * timeout; none blocks longer than that. Such a call may still have taken effect (a command that timed out can
 * run once the store wakes up): a lock taken that way belongs to no running task and expires with its lease, so
 * the key can answer {@link LockResult.Busy} for up to one lease after an outage.
 *
 * <p>Lock operations are compare-on-owner: a caller can never release or renew a lock it does not hold. Lease
 * deadlines are measured on a monotonic clock (in-memory) or by the store's own key expiry (Redis).
 *
 * <p>The lock is not reentrant: {@code checkAndLock} on a key whose lease is live answers {@link LockResult.Busy}
 * even to the same owner. Use an owner unique to one run of one task (e.g. worker id plus delivery tag), so two
 * threads of one worker never share a lock, and pass the owner and fencing token of that run to {@link #renew},
 * {@link #complete} and {@link #release}.
 *
 * <p>Coalescing state ({@link CoalescingStore}) lives in the same store, apart from locks and revisions.
 *
 * <p>Follow-up groups and joins ({@link FollowUpStore}) live in the same store, apart from locks and revisions.
 *
 * <p>Implementations: {@link InMemoryCoordinationStore} (one process) and {@link RedisCoordinationStore}.
 */
public interface CoordinationStore extends RevisionStore, CoalescingStore, FollowUpStore, AutoCloseable {

    /**
     * In one atomic step: compares {@code messageRevision} with the key's current revision and takes the key's
     * lock for {@code owner} with a lease of {@code lease}.
     *
     * @param messageRevision the revision the task was published against; null means "not revisioned"
     * @param lockIfSuperseded false: a stale task gets {@link LockResult.Superseded} and no lock (policy skip);
     *     true: it is locked like any other (policy refresh)
     * @return {@link LockResult.Acquired} with a new fencing token, {@link LockResult.Busy} when another owner
     *     holds an unexpired lease, or {@link LockResult.Superseded}
     */
    LockResult checkAndLock(String key, @Nullable Long messageRevision, String owner, Duration lease,
            boolean lockIfSuperseded);

    /**
     * Which run of the store answers: a value that changes when the store restarts (Redis: its {@code run_id}). A
     * worker reads it periodically: a store that restarted without persistence has forgotten every
     * lock, so another worker may already hold one of them, and every lease held from before is treated as lost
     * at once. Empty for a store that cannot restart apart from this process (in-memory).
     *
     * @throws StoreUnavailableException when the store does not answer
     */
    default java.util.Optional<String> incarnation() {
        return java.util.Optional.empty();
    }

    /**
     * Extends the lease if {@code owner} still holds the lock with {@code fencingToken}.
     *
     * @return false when the lock was lost (expired and taken over, or released)
     */
    boolean renew(String key, String owner, long fencingToken, Duration lease);

    /**
     * In one atomic step: releases the key's lock if {@code owner} holds it with {@code fencingToken}, and
     * records {@code messageId} as completed for {@code doneTtl}. With a null key only the done-marker is written.
     */
    void complete(@Nullable String key, String owner, long fencingToken, String messageId, Duration doneTtl);

    /** Releases the key's lock if {@code owner} holds it with {@code fencingToken}; else does nothing. */
    void release(String key, String owner, long fencingToken);

    /** True if {@code messageId} was recorded as completed and its marker has not expired. */
    boolean isCompleted(String messageId);

    // ---- batches: one round trip for calls that arrive together (the consumer's hot path) ----

    /**
     * {@link #checkAndLock} for each request, in order, each atomic on its own (not the batch as a whole): a later
     * request for a key an earlier one just locked answers {@link LockResult.Busy}. A store answers the whole batch
     * in one round trip; this default calls them one by one.
     *
     * @return one result per request, in request order
     * @throws StoreUnavailableException for the whole batch (any of its requests may still have taken effect)
     */
    default List<LockResult> checkAndLockAll(List<LockRequest> requests) {
        List<LockResult> results = new ArrayList<>(requests.size());
        for (LockRequest r : requests) {
            results.add(checkAndLock(r.key(), r.messageRevision(), r.owner(), r.lease(), r.lockIfSuperseded()));
        }
        return results;
    }

    /**
     * {@link #checkAndLockAll} without waiting for the answer: returns at once, and the stage completes with the
     * same answers (or fails with {@link StoreUnavailableException}, for the whole batch, within the store's
     * timeout). A store on the network completes it on its client's I/O thread, so whoever chains work onto the stage
     * must not block there: hand anything that waits to a thread of its own. This is what lets a worker send its lock
     * calls without holding a thread per call (the consumer's hot path). This default answers on the calling thread,
     * before it returns (right for a store that never waits, such as the in-memory one).
     *
     * <p>Never blocks the caller, also not to connect: a store not connected yet connects in the background.
     *
     * @return one result per request, in request order
     */
    default java.util.concurrent.CompletionStage<List<LockResult>> checkAndLockAllAsync(List<LockRequest> requests) {
        try {
            return java.util.concurrent.CompletableFuture.completedFuture(checkAndLockAll(requests));
        } catch (RuntimeException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }

    /**
     * {@link #complete} for each completion, in order, each atomic on its own; one round trip in a store that
     * batches, one call each in this default.
     *
     * @throws StoreUnavailableException for the whole batch (any of its completions may still have taken effect)
     */
    default void completeAll(List<Completion> completions) {
        for (Completion c : completions) {
            complete(c.key(), c.owner(), c.fencingToken(), c.messageId(), c.doneTtl());
        }
    }

    /**
     * {@link #completeAll} without waiting for the answer, as {@link #checkAndLockAllAsync} is to
     * {@link #checkAndLockAll}: returns at once, and the stage completes once every completion is recorded (or fails
     * with {@link StoreUnavailableException}, for the whole batch, within the store's timeout), on the store
     * client's I/O thread for a store on the network, which must not be blocked. This default completes on the
     * calling thread, before it returns.
     */
    default java.util.concurrent.CompletionStage<Void> completeAllAsync(List<Completion> completions) {
        try {
            completeAll(completions);
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }

    /**
     * {@link #isCompleted} for each message id; one round trip in a store that batches.
     *
     * @return one answer per id, in order
     */
    default List<Boolean> areCompleted(List<String> messageIds) {
        List<Boolean> answers = new ArrayList<>(messageIds.size());
        for (String id : messageIds) {
            answers.add(isCompleted(id));
        }
        return answers;
    }

    /** Releases connections. */
    @Override
    void close();
}
