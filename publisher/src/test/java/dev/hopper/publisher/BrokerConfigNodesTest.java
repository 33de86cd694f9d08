package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Address;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BrokerConfigNodesTest {

    @Test
    void commaSeparatedUrisBecomeOneMultiNodeUri() {
        URI uri = BrokerConfig.parseUri("amqp://app:s3cret@h1:5681/prod, amqp://app:s3cret@h2:5682/prod,amqp://h3/");
        assertThat(uri).isEqualTo(URI.create("amqp://app:s3cret@h1:5681,h2:5682,h3/prod"));
        BrokerConfig c = BrokerConfig.builder(uri).build();
        assertThat(c.nodeUris()).containsExactly(URI.create("amqp://app:s3cret@h1:5681/prod"),
                URI.create("amqp://app:s3cret@h2:5682/prod"), URI.create("amqp://app:s3cret@h3:5672/prod"));
        assertThat(c.virtualHost()).isEqualTo("prod");
        assertThat(c.redactedUri()).isEqualTo("amqp://app:***@h1:5681,h2:5682,h3/prod").doesNotContain("s3cret");
        assertThat(c.toString()).doesNotContain("s3cret");
    }

    @Test
    void multiNodeUriIsAcceptedAsWritten() {
        BrokerConfig c = BrokerConfig.builder(BrokerConfig.parseUri("amqps://u:p@a:5671,b,c:6000/%2F")).build();
        assertThat(c.nodeUris()).extracting(URI::getPort).containsExactly(5671, 5671, 6000);
        assertThat(c.virtualHost()).isEqualTo("/");
        assertThat(BrokerConnection.addresses(c)).containsExactly(new Address("a", 5671), new Address("b", 5671),
                new Address("c", 6000));
    }

    @Test
    void factoryTakesCredentialsVhostAndTlsFromTheNodes() {
        var f = BrokerConnection.factory(BrokerConfig.builder(
                BrokerConfig.parseUri("amqps://us%40er:p%40ss@h1:5700,h2:5701/team%2Fprod")).build());
        assertThat(f.getUsername()).isEqualTo("us@er");
        assertThat(f.getPassword()).isEqualTo("p@ss");
        assertThat(f.getVirtualHost()).isEqualTo("team/prod");
        assertThat(f.isSSL()).isTrue();
        assertThat(f.getHost()).isEqualTo("h1");
        assertThat(f.getPort()).isEqualTo(5700);
    }

    @Test
    void singleUriStaysAsItWas() {
        URI uri = BrokerConfig.parseUri(" amqp://guest:guest@localhost:5672/ ");
        assertThat(uri).isEqualTo(URI.create("amqp://guest:guest@localhost:5672/"));
        assertThat(BrokerConfig.builder(uri).build().nodeUris()).containsExactly(uri);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "amqp://u:secret@h1/,amqps://u:secret@h2/",
        "amqp://u:secret@h1/,amqp://v:secret@h2/",
        "amqp://u:secret@h1/a,amqp://u:secret@h2/b",
        "amqp://u:secret@h1,,h2/",
        "amqp://u:secret@h1:x/",
        "http://u:secret@h1/,http://u:secret@h2/",
    })
    void disagreeingOrMalformedAddressesAreRejectedWithoutThePassword(String text) {
        assertThatThrownBy(() -> BrokerConfig.parseUri(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("secret");
    }

    @Test
    void rabbitmqUriMayListNodes() {
        BrokerConfig c = BrokerConfig.fromEnvironment(Map.of("RABBITMQ_URI",
                "amqp://guest:guest@127.0.0.1:5681/,amqp://guest:guest@127.0.0.1:5682/"), "svc");
        assertThat(c.nodeUris()).hasSize(2);
        assertThat(c.redactedUri()).isEqualTo("amqp://guest:***@127.0.0.1:5681,127.0.0.1:5682/");
    }
}
