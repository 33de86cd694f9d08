package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CoalesceWindowTest {

    @Test
    void headerValueRoundTrips() {
        CoalesceWindow w = new CoalesceWindow(Duration.ofSeconds(30), Duration.ofMinutes(5));

        assertThat(w.headerValue()).isEqualTo("30000/300000");
        assertThat(CoalesceWindow.parseHeader(" 30000/300000 ")).isEqualTo(w);
    }

    @Test
    void windowsAreWholeMilliseconds() {
        assertThat(new CoalesceWindow(Duration.ofNanos(1_500_000), Duration.ofNanos(2_500_000)))
                .isEqualTo(new CoalesceWindow(Duration.ofMillis(1), Duration.ofMillis(2)));
    }

    @Test
    void impossibleWindowsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> new CoalesceWindow(Duration.ZERO, Duration.ofSeconds(1)))
                .hasMessageContaining("debounce must be at least 1ms");
        assertThatThrownBy(() -> new CoalesceWindow(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageContaining("max-delay (1s) must be at least the debounce (2s)");
        assertThatThrownBy(() -> new CoalesceWindow(Duration.ofSeconds(2), Duration.ofDays(31)))
                .hasMessageContaining("at most 30d");
        assertThatThrownBy(() -> CoalesceWindow.parseHeader("/5")).hasMessageContaining("is not");
        assertThatThrownBy(() -> CoalesceWindow.parseHeader("5/")).hasMessageContaining("is not");
        assertThatThrownBy(() -> CoalesceWindow.parseHeader("a/b")).hasMessageContaining("is not");
    }
}
