package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.coordination.StoreUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class AsyncBatcherTest {

    /** A store whose batches stay out until the test answers them, each with its requests times ten. */
    private static final class HeldStore {
        final List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        final List<CompletableFuture<List<Integer>>> answers = new CopyOnWriteArrayList<>();
        final List<String> events = new CopyOnWriteArrayList<>();
        final AsyncBatcher<Integer, Integer> batcher;

        HeldStore(int maxBatch, int maxInFlight, Duration maxWait) {
            batcher = new AsyncBatcher<>("test", b -> {
                batches.add(List.copyOf(b));
                events.add("sent " + b);
                CompletableFuture<List<Integer>> answer = new CompletableFuture<>();
                answers.add(answer);
                return answer;
            }, maxBatch, maxInFlight, maxWait);
        }

        void answer(int batch) {
            answers.get(batch).complete(batches.get(batch).stream().map(i -> i * 10).toList());
        }
    }

    /** What one request got. */
    private record Got(@Nullable Integer answer, @Nullable RuntimeException failure) {}

    private static void submit(HeldStore store, int request, Map<Integer, Got> got) {
        store.batcher.submit(request, (answer, failure) -> {
            store.events.add("answered " + request);
            got.put(request, new Got(answer, failure));
        });
    }

    @Test
    void aLoneRequestIsSentAtOnceAndItsContinuationGetsTheAnswer() {
        HeldStore store = new HeldStore(64, 2, Duration.ofSeconds(10));
        Map<Integer, Got> got = new ConcurrentHashMap<>();

        submit(store, 1, got);

        assertThat(store.batches).containsExactly(List.of(1));
        assertThat(got).isEmpty();
        store.answer(0);
        assertThat(got).containsExactly(Map.entry(1, new Got(10, null)));
        assertThat(store.batcher.inFlightForTests()).isZero();
    }

    @Test
    void awaitAnsweredWaitsForEveryRequestsContinuationIncludingThoseStillQueuedBehindABatchOut() throws Exception {
        HeldStore store = new HeldStore(64, 1, Duration.ofSeconds(10));
        Map<Integer, Got> got = new ConcurrentHashMap<>();
        assertThat(store.batcher.awaitAnswered(System.nanoTime())).as("nothing submitted: nothing to wait for")
                .isTrue();
        submit(store, 1, got);
        submit(store, 2, got); // waits behind the batch out

        assertThat(store.batcher.awaitAnswered(System.nanoTime() + Duration.ofMillis(50).toNanos())).isFalse();
        store.answer(0); // sends [2] before handing on 1's answer
        assertThat(store.batcher.awaitAnswered(System.nanoTime() + Duration.ofMillis(50).toNanos()))
                .as("2 is still out").isFalse();

        ExecutorService answering = Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.CountDownLatch inContinuation = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            store.batcher.submit(3, (answer, failure) -> {
                inContinuation.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                got.put(3, new Got(answer, failure));
            });
            Future<?> answered = answering.submit(() -> store.answer(1)); // [2] answered, [3] sent
            answered.get(10, TimeUnit.SECONDS);
            Future<?> last = answering.submit(() -> store.answer(2)); // [3]: its continuation blocks
            assertThat(inContinuation.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(store.batcher.awaitAnswered(System.nanoTime() + Duration.ofMillis(50).toNanos()))
                    .as("3's continuation is still running").isFalse();
            release.countDown();
            assertThat(store.batcher.awaitAnswered(System.nanoTime() + Duration.ofSeconds(10).toNanos())).isTrue();
            assertThat(got).containsOnlyKeys(1, 2, 3);
            last.get(10, TimeUnit.SECONDS);
        } finally {
            answering.shutdownNow();
        }
    }

    @Test
    void requestsArrivingWhileAllBatchesAreOutGoTogetherAndTheNextBatchIsSentBeforeTheAnswersAreHandedOn() {
        HeldStore store = new HeldStore(3, 2, Duration.ofSeconds(10));
        Map<Integer, Got> got = new ConcurrentHashMap<>();

        for (int i = 1; i <= 6; i++) {
            submit(store, i, got);
        }

        assertThat(store.batches).as("two out at once, the rest waits").containsExactly(List.of(1), List.of(2));
        store.answer(0);
        assertThat(store.batches).as("at most three per batch, oldest first").containsExactly(List.of(1), List.of(2),
                List.of(3, 4, 5));
        assertThat(store.events.indexOf("sent [3, 4, 5]")).as("sent before request 1 is answered")
                .isLessThan(store.events.indexOf("answered 1"));
        store.answer(1);
        assertThat(store.batches).last().isEqualTo(List.of(6));
        store.answer(2);
        store.answer(3);
        assertThat(got).hasSize(6).allSatisfy((request, g) -> assertThat(g).isEqualTo(new Got(request * 10, null)));
        assertThat(store.batcher.inFlightForTests()).isZero();
    }

    @Test
    void aFailedBatchFailsEachOfItsRequestsAndTheNextBatchStillGoesOut() {
        HeldStore store = new HeldStore(64, 1, Duration.ofSeconds(10));
        Map<Integer, Got> got = new ConcurrentHashMap<>();
        submit(store, 1, got);
        submit(store, 2, got);
        submit(store, 3, got);

        StoreUnavailableException down = new StoreUnavailableException("down");
        store.answers.get(0).completeExceptionally(down);

        assertThat(got.get(1)).isEqualTo(new Got(null, down));
        assertThat(store.batches).containsExactly(List.of(1), List.of(2, 3));
        store.answers.get(1).complete(List.of(20)); // one answer for two requests: a broken store
        assertThat(got.get(2).failure()).isInstanceOf(IllegalStateException.class).hasMessageContaining(
                "1 answers for 2 calls");
        assertThat(got.get(3).failure()).isSameAs(got.get(2).failure());
        assertThat(store.batcher.inFlightForTests()).isZero();
    }

    @Test
    void aBatchCallThatThrowsOrAnswersAtOnceAnswersBeforeSubmitReturns() {
        AtomicInteger calls = new AtomicInteger();
        AsyncBatcher<Integer, Integer> batcher = new AsyncBatcher<>("test", b -> {
            if (calls.incrementAndGet() == 1) {
                throw new StoreUnavailableException("down");
            }
            return CompletableFuture.completedFuture(b);
        }, 64, 2, Duration.ofSeconds(10));
        List<Got> got = new ArrayList<>();

        batcher.submit(1, (answer, failure) -> got.add(new Got(answer, failure)));
        batcher.submit(2, (answer, failure) -> got.add(new Got(answer, failure)));

        assertThat(got).hasSize(2);
        assertThat(got.get(0).failure()).isInstanceOf(StoreUnavailableException.class).hasMessage("down");
        assertThat(got.get(1)).isEqualTo(new Got(2, null));
        assertThat(batcher.inFlightForTests()).isZero();
    }

    @Test
    void aContinuationThatThrowsDoesNotKeepTheOthersOfItsBatchFromTheirAnswers() {
        HeldStore store = new HeldStore(64, 1, Duration.ofSeconds(10));
        Map<Integer, Got> got = new ConcurrentHashMap<>();
        submit(store, 1, got);
        store.batcher.submit(2, (answer, failure) -> {
            throw new IllegalStateException("a bug in a continuation");
        });
        submit(store, 3, got);

        store.answer(0);
        store.answer(1);

        assertThat(got).containsOnlyKeys(1, 3);
        assertThat(got.get(3)).isEqualTo(new Got(30, null));
    }

    @Test
    void aBatchNotAnsweredWithinTheBoundFailsAsTheStoresSilence() {
        HeldStore store = new HeldStore(64, 1, Duration.ofMillis(50));
        Map<Integer, Got> got = new ConcurrentHashMap<>();

        submit(store, 1, got);

        await().atMost(Duration.ofSeconds(10)).until(() -> got.containsKey(1));
        assertThat(got.get(1).failure()).isInstanceOf(StoreUnavailableException.class).hasMessageContaining(
                "no answer within");
        assertThat(store.batcher.inFlightForTests()).isZero();
    }

    @Test
    void manyThreadsGetTheirOwnAnswersWithAStoreThatAnswersOnItsOwnThread() throws Exception {
        ExecutorService io = Executors.newSingleThreadExecutor();
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Integer> sizes = new CopyOnWriteArrayList<>();
            AsyncBatcher<Integer, Integer> batcher = new AsyncBatcher<>("test", b -> {
                sizes.add(b.size());
                List<Integer> copy = List.copyOf(b);
                return CompletableFuture.supplyAsync(() -> copy.stream().map(i -> -i).toList(), io);
            }, 5, 2, Duration.ofSeconds(10));
            Map<Integer, Got> got = new ConcurrentHashMap<>();
            List<Future<?>> sent = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int base = t * 1000;
                sent.add(callers.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        int n = base + i;
                        batcher.submit(n, (answer, failure) -> got.put(n, new Got(answer, failure)));
                    }
                }));
            }
            for (Future<?> f : sent) {
                f.get(30, TimeUnit.SECONDS);
            }

            await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 4000);
            assertThat(got).allSatisfy((n, g) -> assertThat(g).isEqualTo(new Got(-n, null)));
            assertThat(sizes).allMatch(s -> s >= 1 && s <= 5);
            assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(4000);
            await().atMost(Duration.ofSeconds(10)).until(() -> batcher.inFlightForTests() == 0);
        } finally {
            callers.shutdownNow();
            io.shutdownNow();
        }
    }
}
