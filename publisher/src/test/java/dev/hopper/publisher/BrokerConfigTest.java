package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BrokerConfigTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "amqp://h:5672/ | /",
        "amqp://h:5672 | /",
        "amqp://h/%2F | /",
        "amqp://h/prod | prod",
        "amqp://h/team%2Fprod | team/prod",
        "amqp://h/a%252Fb | a%2Fb",
    })
    void virtualHostFromPath(String uri, String vhost) {
        assertThat(BrokerConfig.builder(URI.create(uri)).build().virtualHost()).isEqualTo(vhost);
    }

    @Test
    void consumerCallbacksStayOnAmqpClientsPoolUnlessAsked() {
        URI uri = URI.create("amqp://h/");
        assertThat(BrokerConfig.builder(uri).build().dispatchOnIoThread()).isFalse();
        assertThat(BrokerConfig.builder(uri).dispatchOnIoThread(true).build().dispatchOnIoThread()).isTrue();
        assertThat(new BrokerConfig(uri, "n", java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1),
                java.time.Duration.ofSeconds(1)).dispatchOnIoThread()).isFalse();
    }

    @Test
    void rejectsOtherSchemesWithoutLeakingThePassword() {
        assertThatThrownBy(() -> BrokerConfig.builder(URI.create("http://u:secret@h/")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("amqp:// or amqps://")
                .hasMessageContaining("http://u:***@h/")
                .hasMessageNotContaining("secret");
        assertThatThrownBy(() -> BrokerConfig.builder(URI.create("amqp:/nohost")).build())
                .hasMessageContaining("no host");
    }

    @Test
    void fromEnvironmentUsesRabbitmqUriElseTheDefault() {
        BrokerConfig env = BrokerConfig.fromEnvironment(Map.of("RABBITMQ_URI", " amqps://a:b@mq:5671/x "), "svc");
        assertThat(env.uri()).isEqualTo(URI.create("amqps://a:b@mq:5671/x"));
        assertThat(env.connectionName()).isEqualTo("svc");
        assertThat(BrokerConfig.fromEnvironment(Map.of(), "svc").uri()).isEqualTo(BrokerConfig.DEFAULT_URI);
        assertThat(BrokerConfig.fromEnvironment(Map.of("RABBITMQ_URI", " "), "svc").uri())
                .isEqualTo(BrokerConfig.DEFAULT_URI);
    }

    @Test
    void toStringAndRedactedUriNeverShowThePassword() {
        BrokerConfig c = BrokerConfig.builder(URI.create("amqp://guest:hunter2@h/")).connectionName("n").build();
        assertThat(c.toString()).doesNotContain("hunter2").contains("guest:***@h");
        assertThat(c.redactedUri()).isEqualTo("amqp://guest:***@h/");
    }
}
