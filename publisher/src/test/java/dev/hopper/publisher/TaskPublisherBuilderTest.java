package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TaskPublisherBuilderTest {

    private static BrokerConfig nowhere() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        return BrokerConfig.builder(URI.create("amqp://app:pw123@127.0.0.1:" + port + "/"))
                .connectTimeout(Duration.ofSeconds(2)).build();
    }

    @Test
    void needsExactlyOneOfConnectionOrConfig() throws Exception {
        assertThatThrownBy(() -> TaskPublisher.builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one");
    }

    @Test
    void rejectsBadSettingsBeforeConnecting() throws Exception {
        BrokerConfig cfg = nowhere();
        assertThatThrownBy(() -> TaskPublisher.builder().broker(cfg).windowSize(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("windowSize");
        assertThatThrownBy(() -> TaskPublisher.builder().broker(cfg).windowWait(Duration.ofSeconds(-1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("windowWait");
        assertThatThrownBy(() -> TaskPublisher.builder().broker(cfg).confirmTimeout(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
        assertThatThrownBy(() -> TaskPublisher.builder().broker(cfg).publishTimeout(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    }

    @Test
    void ownConnectionThatCannotBeOpenedIsAClearError() throws Exception {
        assertThatThrownBy(() -> TaskPublisher.builder().broker(nowhere()).build())
                .isInstanceOf(BrokerUnavailableException.class)
                .hasMessageContaining("amqp://app:***@127.0.0.1:")
                .hasMessageNotContaining("pw123");
    }
}
