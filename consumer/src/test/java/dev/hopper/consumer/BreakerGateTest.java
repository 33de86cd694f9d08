package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.topology.BreakerSpec;
import dev.hopper.topology.QueueSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The breaker's state machine with Resilience4j's real breaker (count-based window, short waits). */
class BreakerGateTest {
    private static final Duration RUN = Duration.ofMillis(5);

    /** Records what the gate asks of the consumer. */
    static final class RecordingControl implements QueueControl {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public CompletableFuture<Void> pause(Hold hold, String why) {
            assertThat(hold).isEqualTo(Hold.CIRCUIT_BREAKER);
            calls.add("pause");
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> resume(Hold hold, String why) {
            assertThat(hold).isEqualTo(Hold.CIRCUIT_BREAKER);
            calls.add("resume");
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> changePrefetch(int prefetch, String why) {
            calls.add("prefetch " + prefetch);
            return CompletableFuture.completedFuture(null);
        }
    }

    private final List<BreakerState> states = new CopyOnWriteArrayList<>();
    private final RecordingControl control = new RecordingControl();
    private final BreakerGate gate = new BreakerGate(QueueSpec.builder("q").concurrency(2).prefetch(10).build(),
            new BreakerSpec(50, 4, 4, Duration.ofMillis(300), 2), new WorkerListener() {
                @Override
                public void onBreakerStateChanged(String queue, BreakerState state) {
                    states.add(state);
                }
            });

    {
        gate.bind(control);
    }

    private void fail() {
        assertThat(gate.tryEnter()).isTrue();
        gate.failed(RUN, new IllegalStateException("downstream down"));
    }

    private void succeed() {
        assertThat(gate.tryEnter()).isTrue();
        gate.succeeded(RUN);
    }

    @Test
    void opensAtTheThresholdPausesAndRefusesUntilTheWaitIsOver() {
        succeed();
        fail();
        succeed();
        assertThat(gate.state()).isEqualTo(BreakerState.CLOSED);
        assertThat(control.calls).isEmpty();
        fail(); // 2 of 4 = 50%
        assertThat(gate.state()).isEqualTo(BreakerState.OPEN);
        assertThat(control.calls).containsExactly("pause");
        assertThat(states).containsExactly(BreakerState.OPEN);

        // Prefetched deliveries are refused; each refusal re-asserts the pause (idempotent on the consumer).
        assertThat(gate.tryEnter()).isFalse();
        assertThat(gate.tryEnter()).isFalse();
        assertThat(control.calls).containsExactly("pause", "pause", "pause");

        // After the wait: half-open, trial prefetch, consuming again.
        await().atMost(Duration.ofSeconds(5)).until(() -> gate.state() == BreakerState.HALF_OPEN);
        await().atMost(Duration.ofSeconds(1)).until(() -> control.calls.size() == 5);
        assertThat(control.calls.subList(3, 5)).containsExactly("prefetch 2", "resume");
        assertThat(states).containsExactly(BreakerState.OPEN, BreakerState.HALF_OPEN);
    }

    @Test
    void halfOpenLetsTheTrialsThroughThenClosesOnSuccess() {
        tripAndAwaitHalfOpen();
        assertThat(gate.tryEnter()).isTrue();
        assertThat(gate.tryEnter()).isTrue();
        assertThat(gate.tryEnter()).isFalse(); // only 2 trials; not open, so no pause
        assertThat(control.calls).doesNotHaveDuplicates().containsExactly("pause", "prefetch 2", "resume");
        gate.succeeded(RUN);
        gate.succeeded(RUN);
        assertThat(gate.state()).isEqualTo(BreakerState.CLOSED);
        assertThat(control.calls).containsExactly("pause", "prefetch 2", "resume", "prefetch 10", "resume");
        assertThat(states).containsExactly(BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED);
    }

    @Test
    void halfOpenReopensWhenTheTrialsFail() {
        tripAndAwaitHalfOpen();
        fail();
        fail();
        assertThat(gate.state()).isEqualTo(BreakerState.OPEN);
        assertThat(control.calls).containsExactly("pause", "prefetch 2", "resume", "pause");
        assertThat(states).containsExactly(BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.OPEN);
    }

    @Test
    void uncountedRunsNeitherTripTheBreakerNorUseUpTrials() {
        for (int i = 0; i < 20; i++) {
            assertThat(gate.tryEnter()).isTrue();
            gate.notCounted(); // permanent failures, malformed tasks, hand-backs
        }
        assertThat(gate.state()).isEqualTo(BreakerState.CLOSED);
        tripAndAwaitHalfOpen();
        for (int i = 0; i < 5; i++) {
            assertThat(gate.tryEnter()).isTrue();
            gate.notCounted();
        }
        assertThat(gate.state()).isEqualTo(BreakerState.HALF_OPEN);
        succeed();
        succeed();
        assertThat(gate.state()).isEqualTo(BreakerState.CLOSED);
    }

    @Test
    void deliveryGateReportsOnlyDownstreamFailures() {
        DeliveryGate dg = new DeliveryGate(gate, null);
        for (int i = 0; i < 10; i++) {
            assertThat(dg.tryAdmit()).isTrue();
            assertThat(dg.awaitStart()).isTrue();
            dg.report(DeliveryDecider.BreakerReport.NOT_COUNTED, RUN, new PermanentTaskException("bad task"));
        }
        assertThat(gate.state()).isEqualTo(BreakerState.CLOSED);
        for (int i = 0; i < 4; i++) {
            assertThat(dg.tryAdmit()).isTrue();
            dg.report(DeliveryDecider.BreakerReport.FAILURE, RUN, new HandlerTimeoutException(Duration.ofSeconds(1)));
        }
        assertThat(gate.state()).isEqualTo(BreakerState.OPEN);
        assertThat(dg.tryAdmit()).isFalse();
    }

    private void tripAndAwaitHalfOpen() {
        for (int i = 0; i < 4; i++) {
            fail();
        }
        assertThat(gate.state()).isEqualTo(BreakerState.OPEN);
        await().atMost(Duration.ofSeconds(5)).until(() -> gate.state() == BreakerState.HALF_OPEN);
        await().atMost(Duration.ofSeconds(1)).until(() -> control.calls.contains("resume"));
    }
}
