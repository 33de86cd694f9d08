package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.CoalesceWindow;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What only the in-memory coalescing has: its memory bound. The rules are in {@link CoalescingContract}. */
class InMemoryCoalescingTest {
    private static final Instant T0 = Instant.parse("2026-12-02T06:00:00Z");
    private static final CoalesceWindow WINDOW = new CoalesceWindow(Duration.ofSeconds(1), Duration.ofSeconds(2));

    @Test
    void expiredKeysAreDroppedAsTimeMovesOnSoMemoryIsBounded() {
        InMemoryCoalescing c = new InMemoryCoalescing();
        byte[] payload = "{}".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 1_000; i++) {
            CoalesceKey k = new CoalesceKey("q", "t", "k" + i);
            c.scheduleOrAbsorb(k, "m" + i, payload, WINDOW, T0);
            c.claim(k, "m" + i, WINDOW, T0);
        }
        assertThat(c.size()).isEqualTo(1_000);

        Instant later = T0.plus(CoalescingStore.RETENTION).plus(Duration.ofMinutes(2));
        c.scheduleOrAbsorb(new CoalesceKey("q", "t", "fresh"), "f", payload, WINDOW, later);

        assertThat(c.size()).as("only the fresh key is left").isEqualTo(1);
    }

    @Test
    void aKeyWrittenAgainOutlivesItsEarlierExpiry() {
        InMemoryCoalescing c = new InMemoryCoalescing();
        CoalesceKey k = new CoalesceKey("q", "t", "k");
        byte[] payload = "{}".getBytes(StandardCharsets.UTF_8);
        c.scheduleOrAbsorb(k, "m1", payload, WINDOW, T0);
        c.claim(k, "m1", WINDOW, T0);
        Instant second = T0.plus(CoalescingStore.RETENTION);
        c.scheduleOrAbsorb(k, "m2", payload, WINDOW, second);

        Instant afterFirstExpiry = T0.plus(CoalescingStore.RETENTION).plus(Duration.ofMinutes(3));
        assertThat(c.claim(k, "m2", WINDOW, afterFirstExpiry)).isInstanceOf(CoalesceClaim.Claimed.class);
    }
}
