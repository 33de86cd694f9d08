package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class KeyLanesTest {
    private final KeyLanes lanes = new KeyLanes();
    private final List<String> started = new ArrayList<>();

    @Test
    void aKeyInHandHoldsLaterDeliveriesOfThatKeyUntilItLeavesInArrivalOrder() {
        lanes.enter("a", () -> started.add("a1"));
        lanes.enter("a", () -> started.add("a2"));
        lanes.enter("b", () -> started.add("b1"));
        lanes.enter("a", () -> started.add("a3"));

        assertThat(started).containsExactly("a1", "b1");
        assertThat(lanes.waiting()).isEqualTo(2);

        lanes.leave("a");
        assertThat(started).containsExactly("a1", "b1", "a2");
        lanes.leave("a");
        lanes.leave("b");
        assertThat(started).containsExactly("a1", "b1", "a2", "a3");
        lanes.leave("a");
        assertThat(lanes.waiting()).isZero();

        lanes.enter("a", () -> started.add("a4"));
        assertThat(started).as("an empty lane starts at once").endsWith("a4");
    }

    @Test
    void leavingAKeyThatWasNotEnteredIsABug() {
        assertThatThrownBy(() -> lanes.leave("nobody")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void underManyThreadsNoKeyEverHasTwoDeliveriesInHandAndNoneIsLost() throws Exception {
        ExecutorService handlers = Executors.newFixedThreadPool(8);
        Map<String, AtomicInteger> inHand = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        int deliveries = 20_000;
        try {
            for (int i = 0; i < deliveries; i++) {
                String key = "k" + (i % 7);
                lanes.enter(key, () -> handlers.execute(() -> {
                    if (inHand.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() > 1) {
                        overlaps.incrementAndGet();
                    }
                    Thread.onSpinWait();
                    inHand.get(key).decrementAndGet();
                    done.incrementAndGet();
                    lanes.leave(key);
                }));
            }
            // The last ones are started by handler threads leaving their key: wait for them before shutting down.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(done.get()).isEqualTo(deliveries));
        } finally {
            handlers.shutdown();
            assertThat(handlers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }

        assertThat(overlaps.get()).isZero();
        assertThat(lanes.waiting()).isZero();
    }
}
