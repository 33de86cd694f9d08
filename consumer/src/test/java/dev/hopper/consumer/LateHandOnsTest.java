package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LateHandOnsTest {
    private final List<String> log = new ArrayList<>();
    private final LateHandOns late = new LateHandOns();

    private boolean defer(String name) {
        return late.defer(() -> log.add("carried " + name), () -> log.add("refused " + name));
    }

    @Test
    void refusesBeforeTheWorkerCloses() {
        assertThat(defer("a")).isFalse();
        assertThat(late.carryOn(System.nanoTime() + 1_000_000_000L)).isZero();
        assertThat(log).isEmpty();
    }

    @Test
    void carriesOnWhatCameWhileClosingInOrderThenSeals() {
        late.collect();
        assertThat(defer("a")).isTrue();
        assertThat(defer("b")).isTrue();

        assertThat(late.carryOn(System.nanoTime() + 60_000_000_000L)).isEqualTo(2);

        assertThat(log).containsExactly("carried a", "carried b");
        assertThat(defer("c")).as("sealed: the caller nacks").isFalse();
        late.collect();
        assertThat(defer("d")).as("sealing is final").isFalse();
    }

    @Test
    void carriesOnWhatAnEntryHandsOnInTurn() {
        late.collect();
        late.defer(() -> {
            log.add("carried a");
            defer("b"); // a hand-back releases the next delivery of its key, which the stopped pool refuses
        }, () -> log.add("refused a"));

        assertThat(late.carryOn(System.nanoTime() + 60_000_000_000L)).isEqualTo(2);

        assertThat(log).containsExactly("carried a", "carried b");
    }

    @Test
    void refusesWhatIsTakenAfterTheDeadline() {
        late.collect();
        defer("a");
        defer("b");

        assertThat(late.carryOn(System.nanoTime() - 1)).isZero();

        assertThat(log).containsExactly("refused a", "refused b");
    }

    @Test
    void refusesAnEntryThatThrows() {
        late.collect();
        late.defer(() -> {
            throw new IllegalStateException("bug");
        }, () -> log.add("refused a"));
        defer("b");

        assertThat(late.carryOn(System.nanoTime() + 60_000_000_000L)).isEqualTo(1);

        assertThat(log).containsExactly("refused a", "carried b");
    }
}
