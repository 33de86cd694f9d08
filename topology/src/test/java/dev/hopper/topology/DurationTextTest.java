package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationTextTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"500ms,500", "5s,5000", "30s,30000", "5m,300000", "1h,3600000", "1d,86400000", "90s,90000"})
    void parsesEveryUnit(String text, long millis) {
        assertThat(DurationText.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"500ms", "5s", "30s", "5m", "1h", "1d", "90s", "36h"})
    void formatRoundTrips(String text) {
        assertThat(DurationText.format(DurationText.parse(text))).isEqualTo(text);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "5", "5 minutes", "1.5s", "-5s", "5S", "s", "1w"})
    void rejectsOtherForms(String text) {
        assertThatThrownBy(() -> DurationText.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a duration like 500ms, 30s, 5m, 1h, 1d");
    }

    @org.junit.jupiter.api.Test
    void formatsInTheLargestExactUnit() {
        assertThat(DurationText.format(Duration.ofMinutes(120))).isEqualTo("2h");
        assertThat(DurationText.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(DurationText.format(Duration.ofSeconds(61))).isEqualTo("61s");
    }
}
