package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link CoordinationStore} promises. A subclass says how to get a fresh, empty store
 * ({@link #newStore()}: each test gets its own, closed after it) and how to let time pass on the store's lease clock
 * ({@link #elapse(Duration)}); every test here then runs against that implementation.
 */
abstract class CoordinationStoreContract implements CoalescingContract, FollowUpContract {
    /** Long enough never to expire during a test. */
    static final Duration LONG = Duration.ofSeconds(30);
    /** Short enough to let expire on purpose (Redis keys expire by the server's real clock). */
    static final Duration SHORT = Duration.ofMillis(400);

    static final String KEY = "repo:42/commit:abc";

    CoordinationStore store;

    /** A store that shares no keys with any other test's store. */
    abstract CoordinationStore newStore();

    /** Lets at least {@code d} pass on the clock the store measures leases and marker TTLs with. */
    abstract void elapse(Duration d);

    @Override
    public CoordinationStore coalescingStore() {
        return store;
    }

    @Override
    public CoordinationStore followUpStore() {
        return store;
    }

    @Override
    public void letTimePass(Duration d) {
        elapse(d);
    }

    @BeforeEach
    void openStore() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    // ---- acquiring ----

    @Test
    void freeKeyIsAcquiredWithAPositiveToken() {
        LockResult result = store.checkAndLock(KEY, null, "a", LONG, false);

        assertThat(result).isInstanceOf(LockResult.Acquired.class);
        LockResult.Acquired acquired = (LockResult.Acquired) result;
        assertThat(acquired.fencingToken()).isPositive();
        assertThat(acquired.currentRevision()).isZero();
    }

    @Test
    void heldKeyIsBusyForAnotherOwnerWithTheRemainingLease() {
        acquire(KEY, "a", LONG);

        LockResult first = store.checkAndLock(KEY, null, "b", LONG, false);
        assertThat(first).isInstanceOf(LockResult.Busy.class);
        assertThat(((LockResult.Busy) first).remainingLease()).isPositive().isLessThanOrEqualTo(LONG);

        elapse(Duration.ofMillis(300));
        LockResult later = store.checkAndLock(KEY, null, "b", LONG, false);
        assertThat(((LockResult.Busy) later).remainingLease()).isPositive()
                .isLessThanOrEqualTo(LONG.minusMillis(300));
    }

    @Test
    void busyNamesTheHolderByItsTokenSoAWaiterSeesTheLockChangeHands() {
        long first = acquire(KEY, "a", LONG);
        LockResult.Busy whileA = (LockResult.Busy) store.checkAndLock(KEY, null, "w", LONG, false);
        assertThat(whileA.holderToken()).isEqualTo(first);
        assertThat(store.renew(KEY, "a", first, LONG)).isTrue();
        assertThat(((LockResult.Busy) store.checkAndLock(KEY, null, "w", LONG, false)).holderToken())
                .as("a renewal is the same holder").isEqualTo(first);

        store.release(KEY, "a", first);
        long second = acquire(KEY, "b", LONG);
        LockResult.Busy whileB = (LockResult.Busy) store.checkAndLock(KEY, null, "w", LONG, false);

        assertThat(whileB.holderToken()).isEqualTo(second).isNotEqualTo(first);
    }

    @Test
    void lockIsNotReentrantForTheSameOwner() {
        acquire(KEY, "a", LONG);

        assertThat(store.checkAndLock(KEY, null, "a", LONG, false)).isInstanceOf(LockResult.Busy.class);
    }

    @Test
    void keysAreLockedIndependently() {
        acquire(KEY, "a", LONG);

        assertThat(store.checkAndLock("other-key", null, "b", LONG, false)).isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void expiredLeaseIsTakenOverWithAGreaterToken() {
        long first = acquire(KEY, "a", SHORT);

        elapse(SHORT);
        LockResult result = store.checkAndLock(KEY, null, "b", LONG, false);

        assertThat(result).isInstanceOf(LockResult.Acquired.class);
        assertThat(((LockResult.Acquired) result).fencingToken()).isGreaterThan(first);
    }

    @Test
    void tokensGrowStrictlyAcrossAcquisitionsAndExpiries() {
        List<Long> tokens = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String owner = "owner-" + i;
            long token = acquire(KEY, owner, LONG);
            tokens.add(token);
            if (i % 2 == 0) {
                store.release(KEY, owner, token);
            } else {
                store.complete(KEY, owner, token, "m-" + i, LONG);
            }
        }
        tokens.add(acquire(KEY, "short", SHORT));
        elapse(SHORT);
        tokens.add(acquire(KEY, "after-expiry", LONG));

        assertThat(tokens).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void nonPositiveLeaseIsRefused() {
        assertThatThrownBy(() -> store.checkAndLock(KEY, null, "a", Duration.ZERO, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease");
    }

    // ---- release and renew are compare-on-owner ----

    @Test
    void releaseByAnotherOwnerOrWithAStaleTokenDoesNothing() {
        long token = acquire(KEY, "a", LONG);

        store.release(KEY, "b", token);
        store.release(KEY, "a", token - 1);
        assertThat(store.checkAndLock(KEY, null, "c", LONG, false)).isInstanceOf(LockResult.Busy.class);

        store.release(KEY, "a", token);
        assertThat(store.checkAndLock(KEY, null, "c", LONG, false)).isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void renewByAnotherOwnerOrWithAStaleTokenFails() {
        long token = acquire(KEY, "a", LONG);

        assertThat(store.renew(KEY, "b", token, LONG)).isFalse();
        assertThat(store.renew(KEY, "a", token - 1, LONG)).isFalse();
        assertThat(store.renew(KEY, "a", token, LONG)).isTrue();
    }

    @Test
    void renewExtendsTheLeaseBeyondItsFirstDeadline() {
        long token = acquire(KEY, "a", SHORT);

        assertThat(store.renew(KEY, "a", token, LONG)).isTrue();
        elapse(SHORT);

        assertThat(store.checkAndLock(KEY, null, "b", LONG, false)).isInstanceOf(LockResult.Busy.class);
    }

    @Test
    void expiredLeaseCannotBeRenewed() {
        long token = acquire(KEY, "a", SHORT);

        elapse(SHORT);

        assertThat(store.renew(KEY, "a", token, LONG)).isFalse();
        assertThat(store.checkAndLock(KEY, null, "b", LONG, false)).isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void formerHolderCanNeitherRenewNorReleaseNorCompleteAwayTheNewHoldersLock() {
        long stale = acquire(KEY, "a", SHORT);
        elapse(SHORT);
        acquire(KEY, "b", LONG);

        assertThat(store.renew(KEY, "a", stale, LONG)).isFalse();
        store.release(KEY, "a", stale);
        store.complete(KEY, "a", stale, "m-1", LONG);

        assertThat(store.checkAndLock(KEY, null, "c", LONG, false)).isInstanceOf(LockResult.Busy.class);
        assertThat(store.isCompleted("m-1")).as("the handler did finish: its marker is written").isTrue();
    }

    // ---- revisions ----

    @Test
    void revisionsStartAtZeroAndBumpByOne() {
        assertThat(store.currentRevision(KEY)).isZero();

        assertThat(store.bumpRevision(KEY)).isEqualTo(1);
        assertThat(store.bumpRevision(KEY)).isEqualTo(2);

        assertThat(store.currentRevision(KEY)).isEqualTo(2);
        assertThat(store.currentRevision("other-key")).isZero();
    }

    @Test
    void olderMessageRevisionIsSupersededAndLeavesTheKeyUnlocked() {
        store.bumpRevision(KEY);
        store.bumpRevision(KEY);

        assertThat(store.checkAndLock(KEY, 1L, "a", LONG, false)).isEqualTo(new LockResult.Superseded(2));
        assertThat(store.checkAndLock(KEY, 2L, "b", LONG, false)).isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void supersededIsAnsweredEvenWhileTheKeyIsLocked() {
        store.bumpRevision(KEY);
        store.bumpRevision(KEY);
        acquire(KEY, "a", LONG);

        assertThat(store.checkAndLock(KEY, 1L, "b", LONG, false)).isEqualTo(new LockResult.Superseded(2));
    }

    @Test
    void refreshLocksASupersededTaskAndReportsTheCurrentRevision() {
        store.bumpRevision(KEY);
        store.bumpRevision(KEY);

        LockResult result = store.checkAndLock(KEY, 1L, "a", LONG, true);

        assertThat(result).isInstanceOf(LockResult.Acquired.class);
        assertThat(((LockResult.Acquired) result).currentRevision()).isEqualTo(2);
        assertThat(store.checkAndLock(KEY, 2L, "b", LONG, true)).isInstanceOf(LockResult.Busy.class);
    }

    @Test
    void currentOrNewerMessageRevisionIsNotSuperseded() {
        store.bumpRevision(KEY);
        store.bumpRevision(KEY);

        LockResult current = store.checkAndLock(KEY, 2L, "a", LONG, false);
        assertThat(current).isInstanceOf(LockResult.Acquired.class);
        assertThat(((LockResult.Acquired) current).currentRevision()).isEqualTo(2);
        store.release(KEY, "a", ((LockResult.Acquired) current).fencingToken());

        assertThat(store.checkAndLock(KEY, 3L, "b", LONG, false)).isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void messageWithoutRevisionIsNeverSuperseded() {
        store.bumpRevision(KEY);
        store.bumpRevision(KEY);
        store.bumpRevision(KEY);

        LockResult result = store.checkAndLock(KEY, null, "a", LONG, false);

        assertThat(result).isInstanceOf(LockResult.Acquired.class);
        assertThat(((LockResult.Acquired) result).currentRevision()).isEqualTo(3);
    }

    @Test
    void bumpWhileLockedKeepsTheLockAndIsSeenByTheNextTask() {
        long token = acquire(KEY, "a", LONG);

        assertThat(store.bumpRevision(KEY)).isEqualTo(1);

        assertThat(store.checkAndLock(KEY, null, "b", LONG, false)).isInstanceOf(LockResult.Busy.class);
        assertThat(store.renew(KEY, "a", token, LONG)).isTrue();
        assertThat(store.checkAndLock(KEY, 0L, "b", LONG, false)).isEqualTo(new LockResult.Superseded(1));
    }

    // ---- done-markers ----

    @Test
    void completeMarksTheMessageDoneAndReleasesTheLock() {
        long token = acquire(KEY, "a", LONG);
        assertThat(store.isCompleted("m-1")).isFalse();

        store.complete(KEY, "a", token, "m-1", LONG);

        assertThat(store.isCompleted("m-1")).isTrue();
        assertThat(store.isCompleted("m-2")).isFalse();
        assertThat(store.checkAndLock(KEY, null, "b", LONG, false)).isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void completeWithoutKeyWritesOnlyTheMarker() {
        long token = acquire(KEY, "a", LONG);

        store.complete(null, "a", token, "m-1", LONG);

        assertThat(store.isCompleted("m-1")).isTrue();
        assertThat(store.checkAndLock(KEY, null, "b", LONG, false)).isInstanceOf(LockResult.Busy.class);
    }

    @Test
    void doneMarkerExpiresAfterItsTtl() {
        store.complete(null, "a", 0, "m-1", SHORT);
        assertThat(store.isCompleted("m-1")).isTrue();

        elapse(SHORT);

        assertThat(store.isCompleted("m-1")).isFalse();
    }

    // ---- concurrency ----

    /**
     * Threads contend for one key. Each records "acquired" right after it got the lock and "released" right
     * before it gives it back, in one shared synchronized list: if the store ever let two hold the lock at once,
     * two "acquired" entries would follow each other. Tokens, in the order the lock was acquired, must grow.
     */
    @Test
    void contendingThreadsHoldTheLockOneAtATimeWithGrowingTokens() throws Exception {
        int threads = 8;
        int perThread = 25;
        List<long[]> events = Collections.synchronizedList(new ArrayList<>()); // {threadIndex, token, 1=acq|0=rel}
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        String owner = "worker-" + thread + "-run-" + i;
                        LockResult result;
                        while (!((result = store.checkAndLock(KEY, null, owner, LONG, false))
                                instanceof LockResult.Acquired)) {
                            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(50_000, 500_000));
                        }
                        long token = ((LockResult.Acquired) result).fencingToken();
                        events.add(new long[] {thread, token, 1});
                        Thread.yield(); // give another thread the chance to break the lock, if it could
                        events.add(new long[] {thread, token, 0});
                        if (i % 2 == 0) {
                            store.complete(KEY, owner, token, owner, LONG);
                        } else {
                            store.release(KEY, owner, token);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(events).hasSize(threads * perThread * 2);
        long lastToken = Long.MIN_VALUE;
        for (int i = 0; i < events.size(); i += 2) {
            long[] acquired = events.get(i);
            long[] released = events.get(i + 1);
            assertThat(acquired[2]).as("event %d is an acquisition (else two held the lock)", i).isEqualTo(1);
            assertThat(released[2]).as("event %d is a release", i + 1).isEqualTo(0);
            assertThat(released[0]).as("the holder releases before anyone else acquires").isEqualTo(acquired[0]);
            assertThat(released[1]).isEqualTo(acquired[1]);
            assertThat(acquired[1]).as("tokens grow in acquisition order").isGreaterThan(lastToken);
            lastToken = acquired[1];
        }
    }

    // ---- batches ----

    @Test
    void aBatchOfLockRequestsAnswersEachInOrderAsOneByOneCallsWould() {
        answersEachInOrderAsOneByOneCallsWould(store::checkAndLockAll);
        assertThat(store.checkAndLockAll(List.of())).isEmpty();
    }

    @Test
    void anAsyncBatchAnswersExactlyLikeTheSyncBatch() {
        answersEachInOrderAsOneByOneCallsWould(requests -> answerOf(store.checkAndLockAllAsync(requests)));
    }

    @Test
    void anEmptyAsyncBatchCompletesAtOnceWithAnEmptyList() {
        CompletableFuture<List<LockResult>> answer = store.checkAndLockAllAsync(List.of()).toCompletableFuture();

        assertThat(answer).as("nothing to send, nothing to wait for").isDone();
        assertThat(answerOf(answer)).isEmpty();
    }

    @Test
    void anAsyncBatchWithANonPositiveLeaseFailsItsStageInsteadOfThrowing() {
        CompletableFuture<List<LockResult>> answer = store.checkAndLockAllAsync(List.of(
                new LockRequest(KEY, null, "a", LONG, false),
                new LockRequest("other", null, "a", Duration.ZERO, false))).toCompletableFuture();

        Throwable failure = catchThrowable(() -> answer.get(10, TimeUnit.SECONDS));
        assertThat(failure).isInstanceOf(ExecutionException.class);
        assertThat(failure.getCause()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease");
    }

    /** The batch scenario: revisions, a held key and a key the batch itself locks, answered by {@code batchCall}. */
    private void answersEachInOrderAsOneByOneCallsWould(Function<List<LockRequest>, List<LockResult>> batchCall) {
        store.bumpRevision("stale");
        store.bumpRevision("stale");
        long held = acquire("held", "x", LONG);

        List<LockResult> results = batchCall.apply(List.of(
                new LockRequest("free", null, "a", LONG, false),
                new LockRequest("free", null, "b", LONG, false),
                new LockRequest("held", null, "c", LONG, false),
                new LockRequest("stale", 1L, "d", LONG, false),
                new LockRequest("stale", 1L, "e", LONG, true)));

        assertThat(results).hasSize(5);
        assertThat(results.get(0)).isInstanceOf(LockResult.Acquired.class);
        assertThat(results.get(1)).as("a later request for a key the batch just locked").isInstanceOf(
                LockResult.Busy.class);
        assertThat(results.get(2)).isInstanceOf(LockResult.Busy.class);
        assertThat(results.get(3)).isEqualTo(new LockResult.Superseded(2));
        assertThat(results.get(4)).isInstanceOf(LockResult.Acquired.class);
        assertThat(((LockResult.Acquired) results.get(4)).currentRevision()).isEqualTo(2);
        store.release("held", "x", held);
        assertThat(store.checkAndLock("held", null, "c", LONG, false)).isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void tokensOfABatchGrowLikeThoseOfSingleCalls() {
        long before = acquire(KEY, "a", LONG);
        store.release(KEY, "a", before);

        List<LockResult> results = store.checkAndLockAll(List.of(new LockRequest(KEY, null, "b", LONG, false),
                new LockRequest("other", null, "b", LONG, false)));

        long batched = ((LockResult.Acquired) results.get(0)).fencingToken();
        assertThat(batched).isGreaterThan(before);
        store.release(KEY, "b", batched);
        assertThat(acquire(KEY, "c", LONG)).isGreaterThan(batched);
    }

    @Test
    void aBatchOfCompletionsReleasesOnlyLocksStillHeldAndWritesEveryMarker() {
        completesOnlyLocksStillHeldAndWritesEveryMarker(store::completeAll);
    }

    @Test
    void anAsyncBatchOfCompletionsDoesExactlyWhatTheSyncBatchDoes() {
        completesOnlyLocksStillHeldAndWritesEveryMarker(batch -> answerOf(store.completeAllAsync(batch)));
        assertThat(answerOf(store.completeAllAsync(List.of()))).isNull();
    }

    /** The completion scenario: a held lock, a stale token, a keyless marker, completed by {@code batchCall}. */
    private void completesOnlyLocksStillHeldAndWritesEveryMarker(
            java.util.function.Consumer<List<Completion>> batchCall) {
        long token = acquire(KEY, "a", LONG);
        long other = acquire("other", "b", LONG);

        batchCall.accept(List.of(new Completion(KEY, "a", token, "m-1", LONG),
                new Completion("other", "b", other - 1, "m-2", LONG),
                new Completion(null, "c", 0, "m-3", LONG)));

        assertThat(store.areCompleted(List.of("m-1", "m-2", "m-3", "m-4"))).containsExactly(true, true, true, false);
        assertThat(store.checkAndLock(KEY, null, "d", LONG, false)).as("released by its holder").isInstanceOf(
                LockResult.Acquired.class);
        assertThat(store.checkAndLock("other", null, "d", LONG, false)).as("a stale token releases nothing")
                .isInstanceOf(LockResult.Busy.class);
        assertThat(store.areCompleted(List.of())).isEmpty();
    }

    @Test
    void revisionsOfManyKeysAreReadTogether() {
        store.bumpRevision("a");
        store.bumpRevision("a");
        store.bumpRevision("b");

        assertThat(store.currentRevisions(List.of("a", "never", "b", "a"))).containsExactly(2L, 0L, 1L, 2L);
        assertThat(store.currentRevisions(List.of())).isEmpty();
    }

    @Test
    void doneMarkersOfABatchExpireWithTheirTtl() {
        store.completeAll(List.of(new Completion(null, "a", 0, "m-short", SHORT),
                new Completion(null, "a", 0, "m-long", LONG)));

        elapse(SHORT);

        assertThat(store.areCompleted(List.of("m-short", "m-long"))).containsExactly(false, true);
    }

    /** The stage's answer, waited for at most 10 s; its failure's cause is thrown as is. */
    static <T> T answerOf(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for an answer", e);
        } catch (TimeoutException e) {
            throw new AssertionError("no answer within 10 s", e);
        }
    }

    long acquire(String key, String owner, Duration lease) {
        LockResult result = store.checkAndLock(key, null, owner, lease, false);
        assertThat(result).as("lock of %s for %s", key, owner).isInstanceOf(LockResult.Acquired.class);
        return ((LockResult.Acquired) result).fencingToken();
    }
}
