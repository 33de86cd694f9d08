package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestQueues.class)
class BrokerConnectionIT {

    @Test
    void unreachableBrokerNamesTheRedactedUriAndWhatToDo() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free now, and nothing listens once it is closed
        }
        BrokerConfig cfg = BrokerConfig.builder(URI.create("amqp://guest:topsecret@127.0.0.1:" + port + "/"))
                .connectTimeout(Duration.ofSeconds(2)).build();

        assertThatThrownBy(() -> BrokerConnection.open(cfg))
                .isInstanceOf(BrokerUnavailableException.class)
                .hasMessageContaining("amqp://guest:***@127.0.0.1:" + port + "/")
                .hasMessageContaining("Connection refused")
                .hasMessageContaining("rabbitmq-server -detached")
                .hasMessageContaining("RABBITMQ_URI")
                .hasMessageNotContaining("topsecret");
    }

    @Test
    void connectionShowsItsNameOnTheBroker(TestBroker broker) {
        BrokerConfig cfg = BrokerFixture.config(broker, "named");
        try (BrokerConnection conn = BrokerConnection.open(cfg)) {
            assertThat(conn.isOpen()).isTrue();
            assertThat(conn.blockedReason()).isNull();
            assertThat(BrokerFixture.connectionPid(broker, cfg.connectionName())).isNotNull();
        }
    }
}
