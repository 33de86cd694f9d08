package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.ConfirmedChannel;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** Test fixture: declares a queue's topology and publishes tasks with confirms, bypassing TaskPublisher. */
final class TestTasks implements AutoCloseable {
    final BrokerConnection connection;
    final ConfirmedChannel channel;

    TestTasks(TestBroker broker, String name) {
        connection = BrokerConnection.open(BrokerConfig.builder(broker.uri()).connectionName(name).build());
        channel = new ConfirmedChannel(connection, 1000, Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    void declare(HopperConfig config) {
        new Topology(config).declare(connection.amqp());
    }

    /** Publishes one task and waits for its confirm; returns its message id. */
    String publish(String queue, String type, String json) {
        return publish(queue, type, json, null, null);
    }

    String publish(String queue, String type, String json, String key, Long revision) {
        String id = UUID.randomUUID().toString();
        TaskEnvelope e = TaskEnvelope.fresh(id, type, key, revision, Instant.now(), json.getBytes(StandardCharsets.UTF_8));
        publishRaw(queue, EnvelopeCodec.properties(e), e.body());
        return id;
    }

    void publishRaw(String queue, AMQP.BasicProperties props, byte[] body) {
        try {
            channel.publish(QueueNames.TASKS_EXCHANGE, queue, props, body).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("test publish failed", e);
        }
    }

    /** Takes every message from {@code queue} (acking them). */
    List<GetResponse> drain(String queue) throws Exception {
        List<GetResponse> out = new ArrayList<>();
        Connection c = connection.amqp();
        Channel ch = c.createChannel();
        for (GetResponse r = ch.basicGet(queue, true); r != null; r = ch.basicGet(queue, true)) {
            out.add(r);
        }
        ch.close();
        return out;
    }

    long depth(String queue) throws Exception {
        Channel ch = connection.amqp().createChannel();
        try {
            return ch.messageCount(queue);
        } finally {
            ch.close();
        }
    }

    static QueueSpec.Builder quickQueue(String name) {
        return QueueSpec.builder(name).tiers(List.of(dev.hopper.topology.DelayTier.parse("1s"),
                dev.hopper.topology.DelayTier.parse("2s")));
    }

    @Override
    public void close() {
        channel.close();
        connection.close();
    }
}
