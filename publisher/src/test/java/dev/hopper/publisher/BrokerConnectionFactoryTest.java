package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.ConnectionFactory;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BrokerConnectionFactoryTest {

    private static ConnectionFactory factory(String uri) {
        return BrokerConnection.factory(BrokerConfig.builder(URI.create(uri)).heartbeat(Duration.ofSeconds(7))
                .connectTimeout(Duration.ofSeconds(3)).recoveryInterval(Duration.ofMillis(1500)).build());
    }

    @Test
    void plainUriWithCredentialsAndDefaultPort() {
        ConnectionFactory f = factory("amqp://app:s3cret@mq.local/");
        assertThat(f.getHost()).isEqualTo("mq.local");
        assertThat(f.getPort()).isEqualTo(5672);
        assertThat(f.getUsername()).isEqualTo("app");
        assertThat(f.getPassword()).isEqualTo("s3cret");
        assertThat(f.getVirtualHost()).isEqualTo("/");
        assertThat(f.isSSL()).isFalse();
        assertThat(f.getRequestedHeartbeat()).isEqualTo(7);
        assertThat(f.getConnectionTimeout()).isEqualTo(3000);
        assertThat(f.isAutomaticRecoveryEnabled()).isTrue();
        assertThat(f.getNetworkRecoveryInterval()).isEqualTo(1500);
    }

    @Test
    void amqpsUsesTlsAndPort5671() {
        ConnectionFactory f = factory("amqps://app:pw@mq.example.com/prod");
        assertThat(f.isSSL()).isTrue();
        assertThat(f.getPort()).isEqualTo(5671);
        assertThat(f.getVirtualHost()).isEqualTo("prod");
    }

    @Test
    void explicitPortAndPercentEncodedCredentialsAndVhost() {
        ConnectionFactory f = factory("amqp://us%40er:p%40ss%3Aw+rd@h:5999/%2F");
        assertThat(f.getPort()).isEqualTo(5999);
        assertThat(f.getUsername()).isEqualTo("us@er");
        assertThat(f.getPassword()).isEqualTo("p@ss:w+rd");
        assertThat(f.getVirtualHost()).isEqualTo("/");
        assertThat(factory("amqp://h/a%252Fb").getVirtualHost()).isEqualTo("a%2Fb");
    }

    @Test
    void userWithoutPasswordAndNoUserInfoKeepTheClientDefaults() {
        ConnectionFactory onlyUser = factory("amqp://svc@h/");
        assertThat(onlyUser.getUsername()).isEqualTo("svc");
        assertThat(onlyUser.getPassword()).isEqualTo(ConnectionFactory.DEFAULT_PASS);
        ConnectionFactory none = factory("amqp://h/");
        assertThat(none.getUsername()).isEqualTo(ConnectionFactory.DEFAULT_USER);
    }
}
