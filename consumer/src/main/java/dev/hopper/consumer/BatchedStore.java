package dev.hopper.consumer;

import dev.hopper.coordination.Completion;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.LockRequest;
import dev.hopper.coordination.LockResult;
import java.time.Duration;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The coordination store calls on every keyed delivery's path (check-and-lock, complete-and-release, the
 * done-marker check), each gathered across the worker's threads into one store call per batch: one Redis round trip
 * for the deliveries that arrive together instead of one each. The first lock call and the completion go out
 * without a waiting thread ({@link AsyncBatcher}, {@link CoordinationStore#checkAndLockAllAsync},
 * {@link CoordinationStore#completeAllAsync}; the answer goes to a continuation); a busy key's lock calls and the
 * done-marker checks wait ({@link CallBatcher}). Each call answers, or fails, exactly as the single store call
 * would. Thread-safe; one per worker.
 */
final class BatchedStore {
    /** Most calls in one batch: a prefetch window's worth. */
    static final int MAX_BATCH = 64;
    /** Lock batches sent at once (completions and done-checks: one; nobody waits on a completion). */
    static final int LOCK_BATCHES_IN_FLIGHT = 2;
    /** A safety bound only: each batch is bounded by the store's own operation timeout. */
    static final Duration MAX_WAIT = Duration.ofSeconds(60);

    private final CallBatcher<LockRequest, LockResult> locks;
    private final AsyncBatcher<LockRequest, LockResult> lockRequests;
    private final AsyncBatcher<Completion, Boolean> completions;
    private final CallBatcher<String, Boolean> doneChecks;

    BatchedStore(CoordinationStore store) {
        // Two lock batches out at once: a lock call waits for a delivery's run, so it should not also wait for the
        // batch in flight ahead of it (at half load one nearly always is: that wait doubled the check's p50).
        this.locks = new CallBatcher<>("checkAndLock", store::checkAndLockAll, MAX_BATCH, LOCK_BATCHES_IN_FLIGHT,
                MAX_WAIT);
        this.lockRequests = new AsyncBatcher<>("checkAndLock", store::checkAndLockAllAsync, MAX_BATCH,
                LOCK_BATCHES_IN_FLIGHT, MAX_WAIT);
        // One completion batch out at once: nobody waits on a completion, so larger batches (fewer Redis calls)
        // cost no latency that matters; each next batch is sent from the answer's thread.
        this.completions = new AsyncBatcher<>("complete", batch -> store.completeAllAsync(batch)
                .thenApply(done -> java.util.Collections.nCopies(batch.size(), Boolean.TRUE)), MAX_BATCH, 1, MAX_WAIT);
        this.doneChecks = new CallBatcher<>("isCompleted", store::areCompleted, MAX_BATCH, MAX_WAIT);
    }

    /** Check-and-lock, waiting for the answer (a busy key's wait in hand, {@link BusyKeyWait}). */
    LockResult checkAndLock(LockRequest request) {
        return locks.call(request);
    }

    /**
     * Check-and-lock without waiting: {@code then} gets the answer, or the batch's failure, on the thread that
     * completes the batch (the store client's I/O thread for Redis; this one for a store that answers at once), so
     * it must not block. The first lock call of every keyed delivery goes this way: no thread waits for it.
     */
    void checkAndLockThen(LockRequest request, java.util.function.BiConsumer<@Nullable LockResult,
            @Nullable RuntimeException> then) {
        lockRequests.submit(request, then);
    }

    /**
     * Puts {@code completion} into the next complete-and-release batch without waiting for it: {@code then} gets
     * null, or the batch's failure, on the thread that completes the batch (the store client's I/O thread for Redis,
     * this one for a store that answers at once), so it must not block. A completion's thread has nothing left to do
     * but the ack, which the continuation does without waiting.
     */
    void completeThen(Completion completion, Consumer<@Nullable RuntimeException> then) {
        completions.submit(completion, (ignored, failure) -> then.accept(failure));
    }

    /**
     * Waits, until {@code deadlineNanos} ({@link System#nanoTime}) at most, for every first lock call sent so far to
     * be answered and its delivery handed on ({@link AsyncBatcher#awaitAnswered}). A closing worker calls it after it
     * stopped consuming and before its pools stop taking work.
     *
     * @return whether none was left unanswered
     */
    boolean awaitLockAnswers(long deadlineNanos) throws InterruptedException {
        return lockRequests.awaitAnswered(deadlineNanos);
    }

    /**
     * Waits, until {@code deadlineNanos} at most, for every completion sent so far to be answered and its ack handed
     * on. A closing worker calls it after its handlers finished and before it closes its channels.
     *
     * @return whether none was left unanswered
     */
    boolean awaitCompletions(long deadlineNanos) throws InterruptedException {
        return completions.awaitAnswered(deadlineNanos);
    }

    boolean isCompleted(String messageId) {
        return doneChecks.call(messageId);
    }
}
