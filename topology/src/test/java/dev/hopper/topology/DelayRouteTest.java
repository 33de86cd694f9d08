package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class DelayRouteTest {
    private static final List<DelayTier> TIERS = tiers("5s", "30s", "5m", "1h");

    @ParameterizedTest(name = "{0} left -> {1}")
    @CsvSource({
        // Less than the smallest tier: the smallest.
        "1ms,5s", "4999ms,5s",
        // The largest tier that fits (with one smallest tier of slack).
        "5s,5s", "20s,5s", "29s,30s", "30s,30s", "4m,30s", "5m,5m", "59m,5m", "3h,1h", "1d,1h",
        // Slack: 25s left reaches a 30s tier (5s late at most); 24s does not.
        "25s,30s", "24s,5s", "59m55s,1h"
    })
    void nextHopIsTheLargestTierThatFits(String left, String expected) {
        assertThat(DelayRoute.nextHop(TIERS, parse(left)).label()).isEqualTo(expected);
    }

    @Test
    void aThreeHourDelayIsThreeHopsThroughTheLargestTier() {
        Duration threeHours = Duration.ofHours(3);

        assertThat(DelayRoute.plan(TIERS, threeHours)).containsExactly(tier("1h"), tier("1h"), tier("1h"));
        assertThat(DelayRoute.hopCount(TIERS, threeHours)).isEqualTo(3);
    }

    @Test
    void brokerLatencyOnEveryHopDoesNotAddHops() {
        // The worker re-plans from the time left on arrival; each hop costs its TTL plus 40 ms in the broker.
        Duration left = Duration.ofHours(3);
        List<DelayTier> taken = new ArrayList<>();
        while (!(left.isNegative() || left.isZero())) {
            DelayTier t = DelayRoute.nextHop(TIERS, left);
            taken.add(t);
            left = left.minus(t.delay()).minusMillis(40);
        }
        assertThat(taken).containsExactly(tier("1h"), tier("1h"), tier("1h"));
        assertThat(left.negated()).as("lateness").isLessThanOrEqualTo(Duration.ofSeconds(5).plusMillis(3 * 40));
    }

    @ParameterizedTest(name = "{0} -> {1} hops")
    @CsvSource({
        "0s,0", "1ms,1", "5s,1", "3h,3", "3h7s,5", "1h5m30s,3", "58m,17", "10s,2", "12s,3"
    })
    void hopCountMatchesThePlan(String left, long expected) {
        Duration d = left.equals("0s") ? Duration.ZERO : parse(left);
        assertThat(DelayRoute.hopCount(TIERS, d)).isEqualTo(expected);
        assertThat(DelayRoute.plan(TIERS, d)).hasSize((int) expected);
    }

    @Test
    void hopCountAgreesWithThePlanForRandomWaitsAndTiers() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        List<List<DelayTier>> tierSets = List.of(TIERS, tiers("1s", "5s"), tiers("1s"), tiers("7s", "1m", "13m"));
        for (int i = 0; i < 2_000; i++) {
            List<DelayTier> tiers = tierSets.get(i % tierSets.size());
            Duration left = Duration.ofMillis(r.nextLong(1, Duration.ofMinutes(15).toMillis()));
            List<DelayTier> plan = DelayRoute.plan(tiers, left);
            assertThat(DelayRoute.hopCount(tiers, left)).as("%s over %s", left, tiers).isEqualTo(plan.size());
            Duration total = plan.stream().map(DelayTier::delay).reduce(Duration.ZERO, Duration::plus);
            assertThat(total).as("never early").isGreaterThanOrEqualTo(left);
            assertThat(total.minus(left)).as("late by at most one smallest tier")
                    .isLessThanOrEqualTo(tiers.get(0).delay());
        }
    }

    @Test
    void farFutureWaitsAreCountedWithoutWalkingAndRefusedBeyondTheCap() {
        Duration century = Duration.ofDays(36_500);

        assertThat(DelayRoute.hopCount(tiers("5s"), century)).isEqualTo(century.toSeconds() / 5);
        assertThat(DelayRoute.hopCount(TIERS, Duration.ofDays(8000 * 365L))).isEqualTo(8000 * 365L * 24);
        assertThatThrownBy(() -> DelayRoute.checkRoutable("digests", TIERS, Duration.ofDays(60)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a delay of 60d needs 1440 hops through the delay tiers [5s, 30s, 5m, 1h] of queue "
                        + "'digests', more than 990; give the queue a longer tier (up to 24d) or publish closer to "
                        + "the time");
        DelayRoute.checkRoutable("digests", TIERS, Duration.ofDays(41));
        assertThatThrownBy(() -> DelayRoute.plan(tiers("1s"), Duration.ofHours(1))).hasMessageContaining("3600 hops");
    }

    @Test
    void nothingLeftDoesNotHop() {
        assertThatThrownBy(() -> DelayRoute.nextHop(TIERS, Duration.ZERO)).hasMessageContaining("runs");
        assertThatThrownBy(() -> DelayRoute.nextHop(List.of(), Duration.ofSeconds(1)))
                .hasMessageContaining("no delay tiers");
    }

    private static Duration parse(String text) {
        // Accepts compound forms like 3h7s for the table.
        Duration d = Duration.ZERO;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(text);
        while (m.find()) {
            d = d.plus(DurationText.parse(m.group()));
        }
        return d;
    }

    private static DelayTier tier(String label) {
        return DelayTier.parse(label);
    }

    private static List<DelayTier> tiers(String... labels) {
        List<DelayTier> out = new ArrayList<>();
        for (String l : labels) {
            out.add(DelayTier.parse(l));
        }
        return out;
    }
}
