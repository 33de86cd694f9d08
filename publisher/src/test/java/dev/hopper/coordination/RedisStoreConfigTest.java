package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.topology.CoordinationSpec;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RedisStoreConfigTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "redis://127.0.0.1:6379,                  redis://127.0.0.1:6379",
        "redis://:secret@127.0.0.1:6379/2,        redis://:***@127.0.0.1:6379/2",
        "redis://secret@127.0.0.1:6379,           redis://***@127.0.0.1:6379",
        "rediss://hopper:secret@redis.example:6380, rediss://hopper:***@redis.example:6380",
    })
    void redactedUriMasksThePassword(String uri, String expected) {
        RedisStoreConfig config = RedisStoreConfig.builder(URI.create(uri)).build();

        assertThat(config.redactedUri()).isEqualTo(expected);
        assertThat(config.toString()).contains(expected).doesNotContain("secret");
    }

    @Test
    void defaultsComeFromTheDefaultCoordinationSpec() {
        RedisStoreConfig config = RedisStoreConfig.builder(URI.create("redis://localhost")).build();

        assertThat(config.namespace()).isEqualTo("hopper:");
        assertThat(config.operationTimeout()).isEqualTo(CoordinationSpec.DEFAULT.operationTimeout());
    }

    @Test
    void coordinationSpecSetsNamespaceAndTimeout() {
        CoordinationSpec spec = new CoordinationSpec("billing:", Duration.ofHours(2), Duration.ofMillis(750));

        RedisStoreConfig config = RedisStoreConfig.builder(URI.create("redis://localhost")).coordination(spec).build();

        assertThat(config.namespace()).isEqualTo("billing:");
        assertThat(config.operationTimeout()).isEqualTo(Duration.ofMillis(750));
    }

    @Test
    void otherSchemesAreRefusedWithoutPrintingThePassword() {
        assertThatThrownBy(() -> RedisStoreConfig.builder(URI.create("amqp://u:secret@localhost")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("redis://")
                .hasMessageNotContaining("secret");
    }

    @Test
    void nonPositiveTimeoutsAreRefused() {
        RedisStoreConfig.Builder builder = RedisStoreConfig.builder(URI.create("redis://localhost"));

        assertThatThrownBy(() -> builder.operationTimeout(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operation timeout");
    }

    @Test
    void explicitSettingsWinOverTheCoordinationSectionInEitherOrder() {
        CoordinationSpec spec = new CoordinationSpec("yml:", Duration.ofHours(1), Duration.ofSeconds(3));
        URI uri = URI.create("redis://localhost");
        RedisStoreConfig before = RedisStoreConfig.builder(uri).namespace("mine:").coordination(spec).build();
        RedisStoreConfig after = RedisStoreConfig.builder(uri).coordination(spec).namespace("mine:").build();
        assertThat(List.of(before.namespace(), after.namespace())).containsOnly("mine:");
        assertThat(List.of(before.operationTimeout(), after.operationTimeout())).containsOnly(Duration.ofSeconds(3));
        RedisStoreConfig timeout = RedisStoreConfig.builder(uri).operationTimeout(Duration.ofMillis(700))
                .coordination(spec).build();
        assertThat(timeout.operationTimeout()).isEqualTo(Duration.ofMillis(700));
        assertThat(timeout.namespace()).isEqualTo("yml:");
    }
}
