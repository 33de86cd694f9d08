package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DelayTierTest {
    private static final List<DelayTier> TIERS =
            List.of(DelayTier.parse("30s"), DelayTier.parse("5s"), DelayTier.parse("1h"), DelayTier.parse("5m"));

    @ParameterizedTest(name = "wanted {0} -> {1}")
    @CsvSource({
        "1ms,5s", "5s,5s", "5001ms,30s", "30s,30s", "31s,5m", "5m,5m", "6m,1h", "1h,1h",
        // Nothing long enough: the largest tier.
        "2h,1h", "1d,1h"
    })
    void picksSmallestTierAtLeastTheWantedDelayElseLargest(String wanted, String expected) {
        assertThat(DelayTier.pick(TIERS, DurationText.parse(wanted)).label()).isEqualTo(expected);
    }

    @Test
    void zeroDelayPicksTheSmallestTier() {
        assertThat(DelayTier.pick(TIERS, Duration.ZERO).label()).isEqualTo("5s");
    }

    @Test
    void pickingFromNoTiersIsAnError() {
        assertThatThrownBy(() -> DelayTier.pick(List.of(), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tierNamesUseTheDurationSyntax() {
        assertThat(QueueNames.retryQueue("uploads", DelayTier.parse("30s"))).isEqualTo("uploads.retry.30s");
        assertThat(QueueNames.retryQueue("uploads", DelayTier.parse("500ms"))).isEqualTo("uploads.retry.500ms");
        assertThat(QueueNames.deadQueue("uploads")).isEqualTo("uploads.dead");
        assertThat(DelayTier.parse("30s").ttlMillis()).isEqualTo(30_000);
    }

    @Test
    void rejectsNonPositiveAndTooLongTiers() {
        assertThatThrownBy(() -> new DelayTier(Duration.ZERO)).hasMessageContaining("positive");
        assertThatThrownBy(() -> DelayTier.parse("30d")).hasMessageContaining("at most 24d");
    }
}
