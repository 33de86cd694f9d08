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
 * done-marker check), each gathered across the worker's handler threads by a {@link CallBatcher} into one store
 * call per batch ({@link CoordinationStore#checkAndLockAll}, {@link CoordinationStore#completeAll},
 * {@link CoordinationStore#areCompleted}): one Redis round trip for the deliveries that arrive together instead of
 * one each. Each call answers, or throws, exactly what the single store call would (a completion: hands to its
 * continuation). Thread-safe; one per worker.
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
    private final CallBatcher<Completion, Boolean> completions;
    private final CallBatcher<String, Boolean> doneChecks;

    BatchedStore(CoordinationStore store) {
        // Two lock batches out at once: a lock call waits for a delivery's run, so it should not also wait for the
        // batch in flight ahead of it (at half load one nearly always is: that wait doubled the check's p50).
        this.locks = new CallBatcher<>("checkAndLock", store::checkAndLockAll, MAX_BATCH, LOCK_BATCHES_IN_FLIGHT,
                MAX_WAIT);
        this.lockRequests = new AsyncBatcher<>("checkAndLock", store::checkAndLockAllAsync, MAX_BATCH,
                LOCK_BATCHES_IN_FLIGHT, MAX_WAIT);
        this.completions = new CallBatcher<>("complete", batch -> {
            store.completeAll(batch);
            return java.util.Collections.nCopies(batch.size(), Boolean.TRUE);
        }, MAX_BATCH, MAX_WAIT);
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
     * null, or the batch's failure, on the thread that sends that batch (this one when none was in flight; see
     * {@link CallBatcher#submit}). A completion's thread has nothing left to do but the ack, which the continuation
     * does: waiting for the answer would cost it a park and an unpark per task.
     */
    void completeThen(Completion completion, Consumer<@Nullable RuntimeException> then) {
        completions.submit(completion, (ignored, failure) -> then.accept(failure));
    }

    boolean isCompleted(String messageId) {
        return doneChecks.call(messageId);
    }
}
