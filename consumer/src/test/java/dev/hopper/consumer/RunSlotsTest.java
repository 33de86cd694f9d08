package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RunSlotsTest {
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void aDeliveryWaitsWhileAllSlotsAreInUseAndTakesTheFirstOneGivenBack() throws Exception {
        RunSlots slots = new RunSlots(2, Duration.ofSeconds(30), System::nanoTime);
        assertThat(slots.take(() -> false).taken()).isTrue();
        assertThat(slots.take(() -> false).taken()).isTrue();
        assertThat(slots.inUse()).isEqualTo(2);

        CompletableFuture<DeliveryFacts.RunSlot> third = CompletableFuture.supplyAsync(() -> slots.take(() -> false),
                threads);
        // Still waiting after several of its shutdown polls: all slots are in use.
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !third.isDone());

        slots.giveBack();
        DeliveryFacts.RunSlot got = third.get(5, TimeUnit.SECONDS);
        assertThat(got.taken()).isTrue();
        assertThat(got.atNanos()).isPositive();
        assertThat(slots.inUse()).isEqualTo(2);
    }

    @Test
    void shutdownEndsTheWaitAsStopped() throws Exception {
        RunSlots slots = new RunSlots(1, Duration.ofMinutes(5), System::nanoTime);
        slots.take(() -> false);
        AtomicBoolean closing = new AtomicBoolean();
        CompletableFuture<DeliveryFacts.RunSlot> waiting = CompletableFuture.supplyAsync(
                () -> slots.take(closing::get), threads);
        await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(2)).until(() -> !waiting.isDone());

        closing.set(true);
        assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo(DeliveryFacts.RunSlot.refused(true));
        assertThat(slots.inUse()).isEqualTo(1);
    }

    @Test
    void aWaitPastItsBoundIsRefusedNotStopped() {
        RunSlots slots = new RunSlots(1, Duration.ofMillis(120), System::nanoTime);
        slots.take(() -> false);

        assertThat(slots.take(() -> false)).isEqualTo(DeliveryFacts.RunSlot.refused(false));
        assertThat(slots.inUse()).isEqualTo(1);
    }

    @Test
    void aLockHeldWhileWaitingIsRenewedEveryFifthOfItsLeaseAndTheSlotSaysWhen() throws Exception {
        RunSlots slots = new RunSlots(1, Duration.ofSeconds(30), System::nanoTime);
        slots.take(() -> false);
        java.util.concurrent.atomic.AtomicInteger renewals = new java.util.concurrent.atomic.AtomicInteger();
        long lockedAt = System.nanoTime();
        CompletableFuture<DeliveryFacts.RunSlot> waiting = CompletableFuture.supplyAsync(() -> slots.take(() -> false,
                new RunSlots.HeldLease(Duration.ofMillis(500), lockedAt, () -> {
                    renewals.incrementAndGet();
                    return true;
                })), threads);
        // A lease of 500 ms, renewed every 100 ms: well past the lease, the lock is still held.
        await().atMost(Duration.ofSeconds(5)).until(() -> renewals.get() >= 8);
        assertThat(waiting).isNotDone();

        slots.giveBack();
        DeliveryFacts.RunSlot got = waiting.get(5, TimeUnit.SECONDS);
        assertThat(got.taken()).isTrue();
        assertThat(got.renewed()).isTrue();
        assertThat(got.renewedAtNanos() - lockedAt).isGreaterThanOrEqualTo(Duration.ofMillis(800).toNanos());
        assertThat(got.atNanos() - got.renewedAtNanos()).isLessThan(Duration.ofMillis(500).toNanos());
    }

    @Test
    void aRenewalRefusedEndsTheWaitAsLockLostWithoutASlot() throws Exception {
        RunSlots slots = new RunSlots(1, Duration.ofSeconds(30), System::nanoTime);
        slots.take(() -> false);
        DeliveryFacts.RunSlot got = CompletableFuture.supplyAsync(() -> slots.take(() -> false,
                new RunSlots.HeldLease(Duration.ofMillis(300), System.nanoTime(), () -> false)), threads)
                .get(5, TimeUnit.SECONDS);

        assertThat(got).isEqualTo(DeliveryFacts.RunSlot.lost());
        assertThat(slots.inUse()).isEqualTo(1);
    }

    @Test
    void aStoreSilentForFourFifthsOfTheLeaseEndsTheWaitAsLockLost() throws Exception {
        RunSlots slots = new RunSlots(1, Duration.ofSeconds(30), System::nanoTime);
        slots.take(() -> false);
        java.util.concurrent.atomic.AtomicInteger tries = new java.util.concurrent.atomic.AtomicInteger();
        DeliveryFacts.RunSlot got = CompletableFuture.supplyAsync(() -> slots.take(() -> false,
                new RunSlots.HeldLease(Duration.ofMillis(300), System.nanoTime(), () -> {
                    tries.incrementAndGet();
                    throw new dev.hopper.coordination.StoreUnavailableException("silent");
                })), threads).get(5, TimeUnit.SECONDS);

        assertThat(got).isEqualTo(DeliveryFacts.RunSlot.lost());
        assertThat(tries.get()).isBetween(2, 4); // at a fifth, two fifths, three fifths of the lease
    }

    @Test
    void concurrencyBelowOneIsRejected() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RunSlots(0, Duration.ofSeconds(1),
                System::nanoTime)).isInstanceOf(IllegalArgumentException.class);
    }
}
