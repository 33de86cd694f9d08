package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.RetryReason;
import dev.hopper.topology.SupersededPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DeliveryDeciderTest {
    private static final Instant T0 = Instant.parse("2026-11-23T00:00:00Z");
    private static final List<DelayTier> TIERS = tiers("5s", "30s", "5m", "1h");
    private static final RetryPolicy DELAYS = RetryPolicy.DEFAULT.withMaxAttempts(5);
    private static final RetryPolicy WEBHOOK = RetryPolicy.RETRY_FOR_A_DAY;
    private static final RuntimeException BOOM = new IllegalStateException("boom");

    private final DeliveryDecider decider = new DeliveryDecider();

    /** A failure at {@code age} since the first attempt, after {@code attempt} earlier runs. */
    private static DeliveryDecider.Failure failure(RetryPolicy p, int attempt, Duration age, Throwable error) {
        return new DeliveryDecider.Failure(attempt, T0, 0, error, false, false, SupersededPolicy.SKIP, p, TIERS,
                T0.plus(age));
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // Delays list: one delay per attempt, the last repeating, until max-attempts runs.
                Arguments.of("first failure waits the first delay", failure(DELAYS, 0, Duration.ZERO, BOOM),
                        retry("5s", RetryReason.ERROR, 1)),
                Arguments.of("second failure waits the second delay", failure(DELAYS, 1, Duration.ofSeconds(5), BOOM),
                        retry("30s", RetryReason.ERROR, 2)),
                Arguments.of("fourth failure waits the last delay", failure(DELAYS, 3, Duration.ofMinutes(6), BOOM),
                        retry("1h", RetryReason.ERROR, 4)),
                Arguments.of("fifth run of five is exhausted", failure(DELAYS, 4, Duration.ofHours(2), BOOM),
                        dead(DeadReason.EXHAUSTED)),
                Arguments.of("max-age reached is exhausted",
                        failure(DELAYS.withMaxAge(Duration.ofMinutes(10)), 1, Duration.ofMinutes(10), BOOM),
                        dead(DeadReason.EXHAUSTED)),
                Arguments.of("a wanted delay between tiers rounds up",
                        failure(RetryPolicy.ofDelays(Duration.ofSeconds(10)), 0, Duration.ZERO, BOOM),
                        retry("30s", RetryReason.ERROR, 1)),
                Arguments.of("a wanted delay above every tier takes the largest",
                        failure(RetryPolicy.ofDelays(Duration.ofHours(3)), 0, Duration.ZERO, BOOM),
                        retry("1h", RetryReason.ERROR, 1)),
                // The webhook age schedule [{until: 1h, every: 5m}, {until: 24h, every: 1h}].
                Arguments.of("schedule at 0m", failure(WEBHOOK, 0, Duration.ZERO, BOOM), retry("5m", RetryReason.ERROR, 1)),
                Arguments.of("schedule at 30m", failure(WEBHOOK, 6, Duration.ofMinutes(30), BOOM),
                        retry("5m", RetryReason.ERROR, 7)),
                Arguments.of("schedule at 61m", failure(WEBHOOK, 12, Duration.ofMinutes(61), BOOM),
                        retry("1h", RetryReason.ERROR, 13)),
                Arguments.of("schedule at 23h59m", failure(WEBHOOK, 35, Duration.ofHours(23).plusMinutes(59), BOOM),
                        retry("1h", RetryReason.ERROR, 36)),
                Arguments.of("schedule at 24h01m", failure(WEBHOOK, 36, Duration.ofHours(24).plusMinutes(1), BOOM),
                        dead(DeadReason.EXHAUSTED)),
                // Permanent failures never retry.
                Arguments.of("PermanentTaskException", failure(DELAYS, 0, Duration.ZERO,
                        new PermanentTaskException("no such user")), dead(DeadReason.PERMANENT)),
                Arguments.of("subclass of a permanent-on class", failure(
                        DELAYS.withPermanentOn(List.of("java.lang.RuntimeException")), 0, Duration.ZERO, BOOM),
                        dead(DeadReason.PERMANENT)),
                Arguments.of("not in retry-on", failure(new RetryPolicy(List.of(Duration.ofSeconds(5)), List.of(),
                        null, 5, null, List.of("java.io.UncheckedIOException"), List.of()), 0, Duration.ZERO, BOOM),
                        dead(DeadReason.PERMANENT)),
                Arguments.of("in retry-on", failure(new RetryPolicy(List.of(Duration.ofSeconds(5)), List.of(),
                        null, 5, null, List.of("java.io.UncheckedIOException"), List.of()), 0, Duration.ZERO,
                        new UncheckedIOException(new IOException("reset"))), retry("5s", RetryReason.ERROR, 1)),
                Arguments.of("a timeout is retried even with retry-on", failure(new RetryPolicy(
                        List.of(Duration.ofSeconds(5)), List.of(), null, 5, null, List.of("java.io.IOException"),
                        List.of()), 0, Duration.ZERO, new HandlerTimeoutException(Duration.ofSeconds(1))),
                        retry("5s", RetryReason.ERROR, 1)),
                // Lock lost while running: retried with its own reason, counted as a run.
                Arguments.of("lease lost", new DeliveryDecider.Failure(0, T0, 0, BOOM, true, false,
                        SupersededPolicy.SKIP, DELAYS, TIERS, T0), retry("5s", RetryReason.LOCK_LOST, 1)),
                // The key's revision moved while the task failed.
                Arguments.of("revision moved, skip", new DeliveryDecider.Failure(2, T0, 0, BOOM, false, true,
                        SupersededPolicy.SKIP, DELAYS, TIERS, T0), new Decision.Ack(Outcome.SUPERSEDED)),
                Arguments.of("revision moved, refresh", new DeliveryDecider.Failure(2, T0, 0, BOOM, false, true,
                        SupersededPolicy.REFRESH, DELAYS, TIERS, T0), new Decision.RequeueNow(RetryReason.REVISION_CHANGED)),
                Arguments.of("revision moved beats exhaustion", new DeliveryDecider.Failure(4, T0, 0, BOOM, false, true,
                        SupersededPolicy.REFRESH, DELAYS, TIERS, T0), new Decision.RequeueNow(RetryReason.REVISION_CHANGED)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decides(String name, DeliveryDecider.Failure failure, Decision expected) {
        Decision d = decider.onFailure(failure);
        if (expected instanceof Decision.DeadLetter e) {
            assertThat(d).isInstanceOf(Decision.DeadLetter.class);
            Decision.DeadLetter actual = (Decision.DeadLetter) d;
            assertThat(actual.reason()).isEqualTo(e.reason());
            assertThat(actual.error()).isSameAs(failure.error());
            assertThat(actual.errorClass()).isEqualTo(failure.error().getClass().getName());
        } else {
            assertThat(d).isEqualTo(expected);
        }
    }

    @Test
    void lockBusyWaitsTheHoldersRemainingLeaseWithoutCountingAnAttempt() {
        assertThat(decider.onLockBusy(2, 0, 3, Duration.ofSeconds(12), TIERS))
                .isEqualTo(new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.LOCK_BUSY, 2, 1));
        assertThat(decider.onLockBusy(2, 2, 3, Duration.ofMillis(1), TIERS))
                .isEqualTo(new Decision.RetryLater(DelayTier.parse("5s"), RetryReason.LOCK_BUSY, 2, 3));
    }

    @Test
    void lockBusyPastItsBudgetIsALockTimeout() {
        Decision d = decider.onLockBusy(0, 3, 3, Duration.ofSeconds(1), TIERS);
        assertThat(d).isInstanceOf(Decision.DeadLetter.class);
        assertThat(((Decision.DeadLetter) d).reason()).isEqualTo(DeadReason.LOCK_TIMEOUT);
    }

    @Test
    void backoffComesFromResilience4jAndGrowsWithinItsBounds() {
        RetryPolicy p = new RetryPolicy(List.of(), List.of(), new RetryPolicy.Backoff(Duration.ofSeconds(1), 2.0,
                Duration.ofSeconds(8), 0.0), 10, null, List.of(), List.of());
        assertThat(DeliveryDecider.wantedDelay(p, 1, Duration.ZERO)).contains(Duration.ofSeconds(1));
        assertThat(DeliveryDecider.wantedDelay(p, 2, Duration.ZERO)).contains(Duration.ofSeconds(2));
        assertThat(DeliveryDecider.wantedDelay(p, 3, Duration.ZERO)).contains(Duration.ofSeconds(4));
        assertThat(DeliveryDecider.wantedDelay(p, 9, Duration.ZERO)).contains(Duration.ofSeconds(8));
        RetryPolicy jittered = new RetryPolicy(List.of(), List.of(), new RetryPolicy.Backoff(Duration.ofSeconds(4),
                2.0, Duration.ofMinutes(1), 0.5), 10, null, List.of(), List.of());
        for (int i = 0; i < 50; i++) {
            assertThat(DeliveryDecider.wantedDelay(jittered, 1, Duration.ZERO).orElseThrow())
                    .isBetween(Duration.ofSeconds(2), Duration.ofSeconds(6));
        }
    }

    private static Decision retry(String tier, RetryReason reason, int nextAttempt) {
        return new Decision.RetryLater(DelayTier.parse(tier), reason, nextAttempt, 0);
    }

    private static Decision dead(DeadReason reason) {
        return new Decision.DeadLetter(reason, null, null, null);
    }

    private static List<DelayTier> tiers(String... labels) {
        return Stream.of(labels).map(DelayTier::parse).toList();
    }
}
