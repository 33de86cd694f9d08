package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class StartSlotsTest {
    private static final Duration SHORT = Duration.ofMillis(50);

    @Test
    void aSuspectRunsAloneAndOnlyOneSuspectIsInHand() {
        StartSlots slots = new StartSlots(SHORT);
        assertThat(slots.take(true)).isEqualTo(DeliveryFacts.Isolation.ALONE);
        // While it runs alone nothing else starts, and a second suspect is refused at once.
        assertThat(slots.take(false)).isEqualTo(DeliveryFacts.Isolation.REFUSED);
        assertThat(slots.take(true)).isEqualTo(DeliveryFacts.Isolation.REFUSED);
        slots.giveBack(DeliveryFacts.Isolation.ALONE);
        assertThat(slots.take(false)).isEqualTo(DeliveryFacts.Isolation.SHARED);
        assertThat(slots.take(false)).isEqualTo(DeliveryFacts.Isolation.SHARED);
    }

    @Test
    void aSuspectWaitsForWhatRunsAndIsRefusedPastTheBound() {
        StartSlots slots = new StartSlots(SHORT);
        assertThat(slots.take(false)).isEqualTo(DeliveryFacts.Isolation.SHARED);
        assertThat(slots.take(true)).isEqualTo(DeliveryFacts.Isolation.REFUSED);
        // Refused, it is no longer in hand: once the ordinary run is settled the next suspect runs alone.
        slots.giveBack(DeliveryFacts.Isolation.SHARED);
        assertThat(slots.take(true)).isEqualTo(DeliveryFacts.Isolation.ALONE);
        slots.giveBack(DeliveryFacts.Isolation.REFUSED); // nothing taken, nothing given back
        assertThat(slots.take(false)).isEqualTo(DeliveryFacts.Isolation.REFUSED);
    }
}
