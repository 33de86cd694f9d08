package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Delivery;
import dev.hopper.coordination.RevisionStore;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/** Shared steps of the publisher's integration tests: connections, declared queues, reading a queue back. */
final class BrokerFixture {
    private BrokerFixture() {}

    /** A connection config for the test broker with a connection name no other test uses. */
    static BrokerConfig config(TestBroker broker, String hint) {
        return BrokerConfig.builder(broker.uri())
                .connectionName("hopper-it-" + hint + "-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36))
                .recoveryInterval(Duration.ofMillis(500))
                .build();
    }

    /** Declares a fresh work queue (and its retry and dead queues, deleted after the test). */
    static String declareQueue(TestQueues queues, BrokerConnection conn, String hint) {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name(hint)).build());
        new Topology(HopperConfig.of(List.of(spec))).declare(conn.amqp());
        return spec.name();
    }

    /** Ready messages in {@code queue} right now. */
    static long depth(BrokerConnection conn, String queue) throws Exception {
        Channel ch = conn.amqp().createChannel();
        try {
            return ch.queueDeclarePassive(queue).getMessageCount();
        } finally {
            ch.close();
        }
    }

    /**
     * Consumes (and acks) every message of {@code queue}, which must hold exactly {@code expected}: checks the depth
     * first, then reads them all, then checks the queue is empty.
     */
    static List<Delivery> drainExactly(BrokerConnection conn, String queue, int expected) throws Exception {
        assertThat(depth(conn, queue)).as("messages in %s", queue).isEqualTo(expected);
        ConcurrentLinkedQueue<Delivery> got = new ConcurrentLinkedQueue<>();
        Channel ch = conn.amqp().createChannel();
        try {
            ch.basicQos(2000);
            String tag = ch.basicConsume(queue, false, (t, d) -> {
                got.add(d);
                ch.basicAck(d.getEnvelope().getDeliveryTag(), false);
            }, t -> { });
            await().atMost(Duration.ofSeconds(60)).until(() -> got.size() >= expected);
            ch.basicCancel(tag);
        } finally {
            ch.close();
        }
        assertThat(got).hasSize(expected);
        assertThat(depth(conn, queue)).isZero();
        return new ArrayList<>(got);
    }

    /** Message ids of {@code deliveries}, failing if any id appears twice. */
    static List<String> uniqueIds(List<Delivery> deliveries) {
        List<String> ids = deliveries.stream().map(d -> d.getProperties().getMessageId()).toList();
        assertThat(ids).doesNotHaveDuplicates();
        return ids;
    }

    /** A revision store over a map: a fake, since the real ones live in the coordination package. */
    static final class MapRevisions implements RevisionStore {
        final Map<String, Long> revisions = new ConcurrentHashMap<>();

        @Override
        public long currentRevision(String key) {
            return revisions.getOrDefault(key, 0L);
        }

        @Override
        public long bumpRevision(String key) {
            return revisions.merge(key, 1L, Long::sum);
        }
    }

    /**
     * The broker-side pid of the connection whose client-provided name is {@code connectionName}, or null. On
     * RabbitMQ 3.10 {@code list_connections name} shows the socket addresses; the name the client gives is in
     * {@code client_properties} ({@code connection_name}).
     */
    static @Nullable String connectionPid(TestBroker broker, String connectionName) {
        String out = broker.rabbitmqctl("list_connections", "--no-table-headers", "pid", "client_properties");
        for (String line : out.split("\n")) {
            if (line.contains("\"" + connectionName + "\"")) {
                return line.split("\t")[0].trim();
            }
        }
        return null;
    }

    /** The pid of the connection called {@code connectionName}, failing the test when there is none. */
    static String requirePid(TestBroker broker, String connectionName) {
        String pid = connectionPid(broker, connectionName);
        assertThat(pid).as("pid of connection %s in rabbitmqctl list_connections", connectionName).isNotNull();
        return pid;
    }

    /** Closes the broker connection with this pid from the broker's side. */
    static void forceClose(TestBroker broker, String pid) {
        broker.rabbitmqctl("close_connection", pid, "hopper test: forced close");
    }
}
