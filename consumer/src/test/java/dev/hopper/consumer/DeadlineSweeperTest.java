package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.coordination.LockResult;
import dev.hopper.topology.TaskEnvelope;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Timeouts and lease renewals from one sweep, on a fake monotonic clock. */
class DeadlineSweeperTest {
    private static final Duration LEASE = Duration.ofSeconds(3);
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final InMemoryCoordinationStore store = new InMemoryCoordinationStore(Clock.systemUTC(), nanos::get);
    private final List<Runnable> queued = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
        Thread.interrupted(); // runs in these tests are "run" by the test thread
    }

    private void elapse(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    private static HandlerRun run() {
        TaskEnvelope env = TaskEnvelope.fresh("m", "t", null, null, Instant.now(), "{}".getBytes(StandardCharsets.UTF_8));
        return new HandlerRun(Thread.currentThread(), new TaskContext("q", env, Map.of(), Instant.now(),
                Instant.now(), null));
    }

    private Effect.HeldLock lock(String key) {
        long sent = nanos.get();
        LockResult r = store.checkAndLock(key, null, "me", LEASE, false);
        return new Effect.HeldLock(key, "me", ((LockResult.Acquired) r).fencingToken(), LEASE, sent);
    }

    @Test
    void aRunIsStoppedAsATimeoutOnceItsDeadlinePassedAndNotBefore() {
        DeadlineSweeper sweeper = new DeadlineSweeper(store, queued::add, nanos::get);
        HandlerRun run = run();
        try (DeadlineSweeper.Watch w = sweeper.watch(run, Duration.ofSeconds(1), null)) {
            elapse(Duration.ofMillis(999));
            sweeper.sweep();
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            elapse(Duration.ofMillis(1));
            sweeper.sweep();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            assertThat(run.finish()).isEqualTo(HandlerRun.Stop.TIMEOUT);
            assertThat(Thread.currentThread().isInterrupted()).as("finish clears the run's interrupt").isFalse();
        }
        assertThat(sweeper.watching()).isZero();
    }

    /**
     * Issue 17 finding 11: a store that restarted (Redis empty, new run_id) forgot every lock; each run that holds a
     * lease is stopped at once as lock-lost, not at its own next renewal; a run without a lock goes on.
     */
    @Test
    void aStoreRestartStopsEveryRunHoldingALeaseAtOnce() {
        java.util.concurrent.atomic.AtomicReference<String> runId = new java.util.concurrent.atomic.AtomicReference<>(
                "run-1");
        CoordinationStore restarting = restartingStore(runId);
        DeadlineSweeper sweeper = new DeadlineSweeper(restarting, Runnable::run, nanos::get, Duration.ofMillis(100));
        HandlerRun a = run();
        HandlerRun b = run();
        HandlerRun unkeyed = run();
        try (DeadlineSweeper.Watch wa = sweeper.watch(a, Duration.ofMinutes(5), lock("ka"));
                DeadlineSweeper.Watch wb = sweeper.watch(b, Duration.ofMinutes(5), lock("kb"));
                DeadlineSweeper.Watch wu = sweeper.watch(unkeyed, Duration.ofMinutes(5), null)) {
            sweeper.sweep(); // learns run-1
            elapse(Duration.ofMillis(100));
            sweeper.sweep();
            assertThat(Thread.interrupted()).as("same run id: nothing stopped").isFalse();
            runId.set("run-2");
            elapse(Duration.ofMillis(100)); // far before the first renewal (a third of the 3 s lease)
            sweeper.sweep();
            assertThat(a.finish()).isEqualTo(HandlerRun.Stop.LEASE_LOST);
            assertThat(b.finish()).isEqualTo(HandlerRun.Stop.LEASE_LOST);
            assertThat(unkeyed.finish()).isEqualTo(HandlerRun.Stop.NONE);
        }
    }

    @Test
    void aStopAfterTheRunFinishedIsIgnored() {
        DeadlineSweeper sweeper = new DeadlineSweeper(store, queued::add, nanos::get);
        HandlerRun run = run();
        DeadlineSweeper.Watch w = sweeper.watch(run, Duration.ofSeconds(1), null);
        assertThat(run.finish()).isEqualTo(HandlerRun.Stop.NONE);
        elapse(Duration.ofSeconds(2));
        sweeper.sweep(); // the watch is still registered (closed only after finish): must not interrupt
        w.close();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void renewalsGoOutEveryThirdOfTheLeaseAndKeepTheRunGoing() {
        DeadlineSweeper sweeper = new DeadlineSweeper(store, Runnable::run, nanos::get);
        HandlerRun run = run();
        try (DeadlineSweeper.Watch w = sweeper.watch(run, Duration.ofMinutes(1), lock("K"))) {
            for (int i = 0; i < 30; i++) { // 30 s, ten leases
                elapse(Duration.ofSeconds(1));
                sweeper.sweep();
            }
            assertThat(run.finish()).isEqualTo(HandlerRun.Stop.NONE);
        }
        assertThat(store.checkAndLock("K", null, "other", LEASE, false)).isInstanceOf(LockResult.Busy.class);
    }

    @Test
    void aStoreThatStaysSilentStopsTheRunAMarginBeforeTheConfirmedLeaseEnds() {
        DeadlineSweeper sweeper = new DeadlineSweeper(store, queued::add, nanos::get); // renewals never answer
        HandlerRun run = run();
        try (DeadlineSweeper.Watch w = sweeper.watch(run, Duration.ofMinutes(1), lock("K"))) {
            elapse(Duration.ofMillis(2_399)); // the margin is a fifth of the 3 s lease
            sweeper.sweep();
            // One renewal, and one read of the store's incarnation, both on the renewals executor.
            assertThat(queued).as("a renewal and a store-restart check were sent").hasSize(2);
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            elapse(Duration.ofMillis(1));
            sweeper.sweep();
            assertThat(run.finish()).isEqualTo(HandlerRun.Stop.LEASE_LOST);
        }
    }

    @Test
    void aLockTakenOverIsReportedLostByTheRenewal() {
        DeadlineSweeper sweeper = new DeadlineSweeper(store, Runnable::run, nanos::get);
        HandlerRun run = run();
        Effect.HeldLock held = lock("K");
        try (DeadlineSweeper.Watch w = sweeper.watch(run, Duration.ofMinutes(1), held)) {
            // The lock went away under us (e.g. the store lost it) and another owner took the key.
            store.release("K", "me", held.fencingToken());
            store.checkAndLock("K", null, "thief", LEASE, false);
            elapse(Duration.ofSeconds(1));
            sweeper.sweep();
            assertThat(run.finish()).isEqualTo(HandlerRun.Stop.LEASE_LOST);
        }
    }

    @Test
    void aRenewalStuckInTheStoreDelaysNoOtherKeysRenewal() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger fastRenewals = new AtomicInteger();
        CoordinationStore slow = new ForwardingStore(store) {
            @Override
            public boolean renew(String key, String owner, long token, Duration lease) {
                if (key.equals("slow")) {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                } else {
                    fastRenewals.incrementAndGet();
                }
                return super.renew(key, owner, token, lease);
            }
        };
        DeadlineSweeper sweeper = new DeadlineSweeper(slow, pool, nanos::get);
        HandlerRun slowRun = run();
        HandlerRun fastRun = new HandlerRun(new Thread(() -> { }), ctx());
        try (DeadlineSweeper.Watch a = sweeper.watch(slowRun, Duration.ofMinutes(1), lock("slow"));
                DeadlineSweeper.Watch b = sweeper.watch(fastRun, Duration.ofMinutes(1), lock("fast"))) {
            for (int i = 1; i <= 5; i++) {
                elapse(Duration.ofSeconds(1));
                sweeper.sweep();
                int expected = i;
                await().atMost(Duration.ofSeconds(10)).until(() -> fastRenewals.get() >= expected);
            }
            assertThat(fastRun.finish()).isEqualTo(HandlerRun.Stop.NONE);
            assertThat(slowRun.finish()).as("the silent key's run stops at its lease end")
                    .isEqualTo(HandlerRun.Stop.LEASE_LOST);
        } finally {
            release.countDown();
        }
    }

    @Test
    void aLockWaitingForAThreadIsRenewedEveryFifthOfItsLeaseUntilItsDeliveryStarts() {
        AtomicInteger renewals = new AtomicInteger();
        CoordinationStore counting = new ForwardingStore(store) {
            @Override
            public boolean renew(String key, String owner, long token, Duration lease) {
                renewals.incrementAndGet();
                return super.renew(key, owner, token, lease);
            }
        };
        DeadlineSweeper sweeper = new DeadlineSweeper(counting, Runnable::run, nanos::get);
        DeadlineSweeper.QueuedHold hold = sweeper.holdQueued(lock("K"));
        long lastSweep = 0;
        for (int i = 0; i < 100; i++) { // 10 s in sweeps of 100 ms: more than three 3 s leases
            elapse(Duration.ofMillis(100));
            lastSweep = nanos.get();
            sweeper.sweep();
        }
        assertThat(renewals.get()).as("one renewal per fifth of the lease (600 ms)").isBetween(15, 17);
        assertThat(store.checkAndLock("K", null, "other", LEASE, false)).isInstanceOf(LockResult.Busy.class);
        DeliveryFacts.QueuedLease kept = hold.end();
        assertThat(kept).isNotNull();
        assertThat(kept.kept()).isTrue();
        assertThat(lastSweep - kept.confirmedFromNanos()).as("the lease counts from the last renewal sent")
                .isBetween(0L, LEASE.toNanos() / 5);
        assertThat(sweeper.holding()).isZero();
        elapse(LEASE.plusMillis(1)); // no longer kept: the lease runs out
        sweeper.sweep();
        assertThat(store.checkAndLock("K", null, "other", LEASE, false)).isInstanceOf(LockResult.Acquired.class);
    }

    @Test
    void aLockWaitingForAThreadThatNeededNoRenewalEndsWithNothingToTell() {
        DeadlineSweeper sweeper = new DeadlineSweeper(store, Runnable::run, nanos::get);
        DeadlineSweeper.QueuedHold hold = sweeper.holdQueued(lock("K"));
        elapse(Duration.ofMillis(599));
        sweeper.sweep();
        assertThat(hold.end()).isNull();
    }

    @Test
    void aLockTakenOverWhileItsDeliveryWaitsForAThreadIsReportedLostAtTheStart() {
        DeadlineSweeper sweeper = new DeadlineSweeper(store, Runnable::run, nanos::get);
        Effect.HeldLock held = lock("K");
        DeadlineSweeper.QueuedHold hold = sweeper.holdQueued(held);
        store.release("K", "me", held.fencingToken());
        store.checkAndLock("K", null, "thief", LEASE, false);
        elapse(Duration.ofMillis(600));
        sweeper.sweep();
        DeliveryFacts.QueuedLease lost = hold.end();
        assertThat(lost).isNotNull();
        assertThat(lost.kept()).isFalse();
    }

    @Test
    void aStoreRestartMarksEveryLockWaitingForAThreadLost() {
        java.util.concurrent.atomic.AtomicReference<String> runId = new java.util.concurrent.atomic.AtomicReference<>(
                "run-1");
        CoordinationStore restarting = restartingStore(runId);
        DeadlineSweeper sweeper = new DeadlineSweeper(restarting, Runnable::run, nanos::get, Duration.ofMillis(100));
        DeadlineSweeper.QueuedHold hold = sweeper.holdQueued(lock("K"));
        sweeper.sweep(); // learns run-1
        runId.set("run-2");
        elapse(Duration.ofMillis(100)); // before any renewal is due
        sweeper.sweep();
        DeliveryFacts.QueuedLease lost = hold.end();
        assertThat(lost).isNotNull();
        assertThat(lost.kept()).isFalse();
    }

    /** The test's store, whose incarnation (Redis run id) is whatever {@code runId} holds. */
    private CoordinationStore restartingStore(java.util.concurrent.atomic.AtomicReference<String> runId) {
        return new ForwardingStore(store) {
            @Override
            public java.util.Optional<String> incarnation() {
                return java.util.Optional.of(runId.get());
            }
        };
    }

    private static TaskContext ctx() {
        TaskEnvelope env = TaskEnvelope.fresh("m2", "t", null, null, Instant.now(), "{}".getBytes(StandardCharsets.UTF_8));
        return new TaskContext("q", env, Map.of(), Instant.now(), Instant.now(), null);
    }
}
