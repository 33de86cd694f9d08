package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    @Test
    void anEmptyBuilderIsTheDefaultPolicy() {
        assertThat(RetryPolicy.builder().build()).isEqualTo(RetryPolicy.DEFAULT);
    }

    @Test
    void theBuilderMakesTheWebhookScheduleWithItsDefaults() {
        RetryPolicy p = RetryPolicy.builder().step(Duration.ofHours(1), Duration.ofMinutes(5))
                .step(Duration.ofHours(24), Duration.ofHours(1)).build();
        assertThat(p).isEqualTo(RetryPolicy.RETRY_FOR_A_DAY);
        assertThat(p.maxAttempts()).isEqualTo(Integer.MAX_VALUE);
        assertThat(p.maxAge()).isEqualTo(Duration.ofHours(24));
    }

    @Test
    void settingsAndToBuilderRoundTrip() {
        RetryPolicy p = RetryPolicy.builder().delays(Duration.ofSeconds(1), Duration.ofSeconds(10)).maxAttempts(4)
                .maxAge(Duration.ofHours(2)).retryOn(List.of("java.io.IOException"))
                .permanentOn(List.of("java.lang.IllegalArgumentException")).build();
        assertThat(p.delays()).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(10));
        assertThat(p.maxAttempts()).isEqualTo(4);
        assertThat(p.retryOn()).containsExactly("java.io.IOException");
        assertThat(p.toBuilder().build()).isEqualTo(p);
        assertThat(p.toBuilder().maxAttempts(9).build().maxAttempts()).isEqualTo(9);
    }

    @Test
    void twoFormsAreRejected() {
        assertThatThrownBy(() -> RetryPolicy.builder().delays(Duration.ofSeconds(1))
                .step(Duration.ofHours(1), Duration.ofMinutes(5)).build())
                .hasMessageContaining("exactly one of delays, schedule or backoff");
    }
}
