package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.coordination.StoreUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CallBatcherTest {
    private final ExecutorService threads = Executors.newFixedThreadPool(8);

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void aLoneCallIsSentAtOnceAsABatchOfOne() {
        List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        CallBatcher<Integer, Integer> batcher = new CallBatcher<>("test", b -> {
            batches.add(List.copyOf(b));
            return b.stream().map(i -> i * 10).toList();
        }, 64, Duration.ofSeconds(10));

        assertThat(batcher.call(1)).isEqualTo(10);
        assertThat(batcher.call(2)).isEqualTo(20);
        assertThat(batches).containsExactly(List.of(1), List.of(2));
    }

    @Test
    void callsArrivingWhileABatchIsInFlightGoOutTogetherAndEachGetsItsOwnAnswer() throws Exception {
        HeldBatcher held = new HeldBatcher(64);

        Future<Integer> first = threads.submit(() -> held.batcher.call(0));
        assertThat(held.firstInFlight.await(10, TimeUnit.SECONDS)).isTrue();
        List<Future<Integer>> others = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            int n = i;
            others.add(threads.submit(() -> held.batcher.call(n)));
        }
        waitUntilQueued(held.batcher, 5);
        assertThat(others).noneMatch(Future::isDone);
        held.release.countDown();

        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(0);
        for (int i = 0; i < 5; i++) {
            assertThat(others.get(i).get(10, TimeUnit.SECONDS)).isEqualTo((i + 1) * 10);
        }
        assertThat(held.batches).hasSize(2);
        assertThat(held.batches.get(0)).containsExactly(0);
        assertThat(held.batches.get(1)).containsExactlyInAnyOrder(1, 2, 3, 4, 5);
    }

    @Test
    void aFailedBatchFailsEveryCallInItAndTheNextBatchStillRuns() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CallBatcher<Integer, Integer> batcher = new CallBatcher<>("test", b -> {
            if (calls.incrementAndGet() == 1) {
                throw new StoreUnavailableException("down");
            }
            return b;
        }, 64, Duration.ofSeconds(10));

        assertThatThrownBy(() -> batcher.call(1)).isInstanceOf(StoreUnavailableException.class).hasMessage("down");
        assertThat(batcher.call(2)).isEqualTo(2);
    }

    @Test
    void manyThreadsGetTheirOwnAnswersInBatchesNoLargerThanTheMaximum() throws Exception {
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        CallBatcher<Integer, Integer> batcher = new CallBatcher<>("test", b -> {
            sizes.add(b.size());
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
            return b.stream().map(i -> -i).toList();
        }, 3, Duration.ofSeconds(10));
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int base = t * 1000;
            futures.add(threads.submit(() -> {
                for (int i = 0; i < 300; i++) {
                    assertThat(batcher.call(base + i)).isEqualTo(-(base + i));
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(8 * 300);
        assertThat(sizes).allMatch(s -> s >= 1 && s <= 3);
        assertThat(sizes.size()).as("calls were gathered into fewer batches").isLessThan(8 * 300);
    }

    @Test
    void withTwoInFlightACallArrivingWhileOneBatchIsOutIsSentAtOnceAndAThirdWaits() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        CallBatcher<Integer, Integer> batcher = new CallBatcher<>("test", b -> {
            batches.add(List.copyOf(b));
            if (b.contains(0) || b.contains(1)) {
                await(release);
            }
            return b.stream().map(i -> i * 10).toList();
        }, 64, 2, Duration.ofSeconds(10));

        Future<Integer> first = threads.submit(() -> batcher.call(0));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> batches.size() == 1);
        Future<Integer> second = threads.submit(() -> batcher.call(1));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> batches.size() == 2);
        Future<Integer> third = threads.submit(() -> batcher.call(2));
        Future<Integer> fourth = threads.submit(() -> batcher.call(3));
        waitUntilQueued(batcher, 2);
        assertThat(batches).containsExactly(List.of(0), List.of(1));
        assertThat(batcher.sendersForTests()).isEqualTo(2);
        release.countDown();

        assertThat(List.of(first.get(10, TimeUnit.SECONDS), second.get(10, TimeUnit.SECONDS),
                third.get(10, TimeUnit.SECONDS), fourth.get(10, TimeUnit.SECONDS))).containsExactly(0, 10, 20, 30);
        assertThat(batches).as("the two waiting calls went out together").hasSize(3);
        assertThat(batches.get(2)).containsExactlyInAnyOrder(2, 3); // their threads race to the queue
        assertThat(batcher.sendersForTests()).isZero();
    }

    @Test
    void withTwoInFlightManyCallersAndSubmittersAreAllAnsweredAndNoMoreThanTwoBatchesAreEverOut() throws Exception {
        AtomicInteger out = new AtomicInteger();
        AtomicInteger mostOut = new AtomicInteger();
        CallBatcher<Integer, Integer> batcher = new CallBatcher<>("test", b -> {
            mostOut.accumulateAndGet(out.incrementAndGet(), Math::max);
            java.util.concurrent.locks.LockSupport.parkNanos(50_000);
            out.decrementAndGet();
            return b.stream().map(i -> -i).toList();
        }, 3, 2, Duration.ofSeconds(10));
        AtomicInteger submittedAnswers = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int base = t * 1000;
            boolean submits = t % 2 == 1;
            futures.add(threads.submit(() -> {
                for (int i = 0; i < 300; i++) {
                    int n = base + i;
                    if (submits) {
                        batcher.submit(n, (answer, failure) -> {
                            if (answer != null && answer == -n && failure == null) {
                                submittedAnswers.incrementAndGet();
                            }
                        });
                    } else {
                        assertThat(batcher.call(n)).isEqualTo(-n);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        // Every thread has returned, so no sender is left: every submitted call was answered.
        assertThat(submittedAnswers.get()).isEqualTo(4 * 300);
        assertThat(batcher.sendersForTests()).isZero();
        assertThat(batcher.waitingForTests()).isZero();
        assertThat(mostOut.get()).isBetween(1, 2);
    }

    @Test
    void aLoneSubmitIsSentByItsCallerAndAnsweredBeforeSubmitReturns() {
        List<String> answered = new ArrayList<>();
        CallBatcher<Integer, Integer> batcher = new CallBatcher<>("test", b -> b.stream().map(i -> i * 10).toList(),
                64, Duration.ofSeconds(10));

        batcher.submit(1, (answer, failure) -> answered.add(answer + "/" + failure + "/" + Thread.currentThread()));

        assertThat(answered).containsExactly("10/null/" + Thread.currentThread());
    }

    @Test
    void submitsWhileABatchIsInFlightReturnAtOnceAndTheSendingThreadAnswersThemAll() throws Exception {
        HeldBatcher held = new HeldBatcher(64);
        List<String> answers = new CopyOnWriteArrayList<>();
        List<String> answeredOn = new CopyOnWriteArrayList<>();

        Future<Integer> first = threads.submit(() -> held.batcher.call(0));
        assertThat(held.firstInFlight.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 1; i <= 5; i++) {
            int n = i;
            held.batcher.submit(n, (answer, failure) -> {
                answers.add(n + "=" + answer + "/" + failure);
                answeredOn.add(Thread.currentThread().getName());
            });
        }
        // Each submit returned at once, with the batch in flight: nothing is answered yet.
        assertThat(answers).isEmpty();
        assertThat(held.batcher.waitingForTests()).isEqualTo(5);
        held.release.countDown();

        assertThat(first.get(10, TimeUnit.SECONDS)).isZero();
        // call(0) returns only after sending what waited: no submitter has a thread that would come back for it.
        assertThat(answers).containsExactly("1=10/null", "2=20/null", "3=30/null", "4=40/null", "5=50/null");
        assertThat(held.batches).containsExactly(List.of(0), List.of(1, 2, 3, 4, 5));
        assertThat(held.senders).hasSize(2).allMatch(held.senders.get(0)::equals);
        assertThat(answeredOn).hasSize(5).allMatch(held.senders.get(0)::equals);
        assertThat(held.batcher.waitingForTests()).isZero();
    }

    @Test
    void aCallWaitingBehindSubmitsTakesOverTheSendingAndTheSubmitsAreAnsweredFirst() throws Exception {
        HeldBatcher held = new HeldBatcher(2);
        List<Integer> answers = new CopyOnWriteArrayList<>();

        Future<Integer> first = threads.submit(() -> held.batcher.call(0));
        assertThat(held.firstInFlight.await(10, TimeUnit.SECONDS)).isTrue();
        held.batcher.submit(1, (answer, failure) -> answers.add(answer));
        held.batcher.submit(2, (answer, failure) -> answers.add(answer));
        Future<Integer> third = threads.submit(() -> held.batcher.call(3));
        waitUntilQueued(held.batcher, 3);
        held.release.countDown();

        assertThat(first.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(third.get(10, TimeUnit.SECONDS)).isEqualTo(30);
        assertThat(answers).containsExactly(10, 20);
        assertThat(held.batches).containsExactly(List.of(0), List.of(1, 2), List.of(3));
    }

    @Test
    void aFailedBatchHandsItsFailureToEverySubmitAndAThrowingContinuationHarmsNoOther() {
        StoreUnavailableException down = new StoreUnavailableException("down");
        CallBatcher<Integer, Integer> batcher = new CallBatcher<>("test", b -> {
            if (b.contains(1)) {
                throw down;
            }
            return b;
        }, 64, Duration.ofSeconds(10));
        List<Object> seen = new ArrayList<>();

        batcher.submit(1, (answer, failure) -> seen.add(failure));
        batcher.submit(2, (answer, failure) -> {
            throw new IllegalStateException("a bug in a continuation");
        });
        batcher.submit(3, (answer, failure) -> seen.add(answer));

        assertThat(seen).containsExactly(down, 3);
        assertThat(batcher.call(4)).isEqualTo(4);
    }

    /**
     * A batcher answering n with n * 10 whose batch holding 0 stays in flight until {@code release}; records each
     * batch and the thread that sent it.
     */
    private static final class HeldBatcher {
        final CountDownLatch firstInFlight = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        final List<String> senders = new CopyOnWriteArrayList<>();
        final CallBatcher<Integer, Integer> batcher;

        HeldBatcher(int maxBatch) {
            batcher = new CallBatcher<>("test", b -> {
                batches.add(List.copyOf(b));
                senders.add(Thread.currentThread().getName());
                if (b.contains(0)) {
                    firstInFlight.countDown();
                    await(release);
                }
                return b.stream().map(i -> i * 10).toList();
            }, maxBatch, Duration.ofSeconds(10));
        }
    }

    private static void waitUntilQueued(CallBatcher<Integer, Integer> batcher, int n) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> batcher.waitingForTests() >= n);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
