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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    /**
     * With {@code dispatchOnIoThread} a consumer's callbacks run on the thread that reads the connection's frames
     * (amqp-client names it "AMQP Connection host:port"), in delivery order; without it, on amqp-client's pool.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void consumerCallbacksRunOnTheIoThreadOnlyWhenAsked(boolean onIoThread, TestBroker broker) throws Exception {
        BrokerConfig base = BrokerFixture.config(broker, "dispatch");
        BrokerConfig cfg = BrokerConfig.builder(base.uri()).connectionName(base.connectionName())
                .dispatchOnIoThread(onIoThread).build();
        assertThat(cfg.dispatchOnIoThread()).isEqualTo(onIoThread);
        java.util.List<String> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        try (BrokerConnection conn = BrokerConnection.open(cfg)) {
            com.rabbitmq.client.Channel ch = conn.amqp().createChannel();
            String queue = ch.queueDeclare().getQueue(); // server-named, exclusive: gone with the connection
            ch.basicConsume(queue, true, new com.rabbitmq.client.DefaultConsumer(ch) {
                @Override
                public void handleDelivery(String tag, com.rabbitmq.client.Envelope envelope,
                        com.rabbitmq.client.AMQP.BasicProperties props, byte[] body) {
                    seen.add(new String(body, java.nio.charset.StandardCharsets.UTF_8) + "@"
                            + Thread.currentThread().getName());
                }
            });
            for (int i = 0; i < 3; i++) {
                ch.basicPublish("", queue, null, ("m" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 3);
        }
        assertThat(seen).extracting(s -> s.substring(0, s.indexOf('@'))).containsExactly("m0", "m1", "m2");
        assertThat(seen).allSatisfy(s -> assertThat(s.substring(s.indexOf('@') + 1).startsWith("AMQP Connection "))
                .as("callback thread of %s", s).isEqualTo(onIoThread));
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

    @Test
    void aWrongPasswordSaysAuthenticationFailedForTheUserWithNoStrayWarning(TestBroker broker) throws Exception {
        URI good = broker.uri();
        URI bad = new URI(good.getScheme(), "hopper-nobody:wrong", good.getHost(), good.getPort(), good.getPath(),
                null, null);
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        root.addAppender(logged);
        try {
            assertThatThrownBy(() -> BrokerConnection.open(BrokerConfig.builder(bad).build()))
                    .isInstanceOfSatisfying(BrokerUnavailableException.class, e -> assertThat(e.reason())
                            .isEqualTo(BrokerUnavailableException.Reason.AUTHENTICATION))
                    .hasMessageStartingWith("authentication failed for user 'hopper-nobody' at ")
                    .hasMessageNotContaining("wrong")
                    .hasMessageNotContaining("rabbitmq-server -detached");
            // The client's driver thread notices the closed socket a moment later: no warning may appear meanwhile.
            org.awaitility.Awaitility.await().during(java.time.Duration.ofMillis(500))
                    .atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> warnings(logged).isEmpty());
        } finally {
            root.detachAppender(logged);
        }
        assertThat(warnings(logged)).isEmpty();
    }

    @Test
    void aMissingVirtualHostIsNamed(TestBroker broker) throws Exception {
        URI good = broker.uri();
        URI bad = new URI(good.getScheme(), good.getRawUserInfo(), good.getHost(), good.getPort(),
                "/hopper-no-such-vhost", null, null);
        assertThatThrownBy(() -> BrokerConnection.open(BrokerConfig.builder(bad).build()))
                .isInstanceOfSatisfying(BrokerUnavailableException.class, e -> assertThat(e.reason())
                        .isEqualTo(BrokerUnavailableException.Reason.VIRTUAL_HOST))
                .hasMessageContaining("virtual host 'hopper-no-such-vhost'");
    }

    private static java.util.List<String> warnings(
            ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged) {
        return java.util.List.copyOf(logged.list).stream()
                .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
    }
}
