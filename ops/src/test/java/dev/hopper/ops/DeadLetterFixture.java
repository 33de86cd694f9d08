package dev.hopper.ops;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestQueues;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * Dead letters made by hand, with exactly the headers a worker writes when it dead-letters a task, published
 * through {@code hopper.dead} with confirms; and helpers to read queues back.
 */
final class DeadLetterFixture {
    private DeadLetterFixture() {}

    /** A work queue with one short tier, declared on the broker and registered for cleanup. */
    static QueueSpec declare(Connection c, TestQueues queues, String hint) {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name(hint)).tiers(List.of(DelayTier.parse("5s")))
                .build());
        new Topology(HopperConfig.of(List.of(spec))).declare(c);
        return spec;
    }

    /** The headers of a dead letter from {@code queue}. */
    static Map<String, Object> headers(String queue, String reason, String errorClass, String frame,
            Instant failedAt) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put(Headers.ATTEMPT, 8);
        h.put(Headers.PUBLISHED_AT, failedAt.minusSeconds(3600).toString());
        h.put(Headers.FIRST_ATTEMPT_AT, failedAt.minusSeconds(3500).toString());
        h.put(Headers.DEAD_REASON, reason);
        h.put(Headers.ERROR_CLASS, errorClass);
        h.put(Headers.ERROR_MESSAGE, "it broke");
        h.put(Headers.ERROR_STACK, errorClass + ": it broke\n\tat " + frame + "\n\tat com.acme.Main.run(Main.java:1)");
        h.put(Headers.FAILED_AT, failedAt.toString());
        h.put(Headers.WORKER, "worker-1@host");
        h.put(Headers.ORIGIN_QUEUE, queue);
        return h;
    }

    static AMQP.BasicProperties props(String id, String type, Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId(id).type(type).contentType("application/json")
                .appId("hopper").deliveryMode(2).timestamp(new Date()).headers(headers).build();
    }

    /**
     * Publishes {@code n} dead letters of {@code queue} (ids {@code <prefix>-0 .. n-1}) and waits for the
     * broker's confirms; returns the ids in publish order.
     */
    static List<String> publish(Connection c, String queue, int n, String prefix,
            IntFunction<AMQP.BasicProperties> props) throws IOException, InterruptedException, TimeoutException {
        List<String> ids = new ArrayList<>();
        Channel ch = c.createChannel();
        try {
            ch.confirmSelect();
            for (int i = 0; i < n; i++) {
                AMQP.BasicProperties p = props.apply(i);
                ids.add(p.getMessageId());
                ch.basicPublish(QueueNames.DEAD_EXCHANGE, queue, true, p,
                        ("{\"n\":" + i + ",\"prefix\":\"" + prefix + "\"}").getBytes(StandardCharsets.UTF_8));
                if (i % 500 == 499) {
                    ch.waitForConfirmsOrDie(30_000);
                }
            }
            ch.waitForConfirmsOrDie(30_000);
        } finally {
            ch.close();
        }
        return ids;
    }

    /** Takes every ready message out of {@code queue} (auto-ack) and returns them in queue order. */
    static List<GetResponse> drain(Connection c, String queue) throws IOException, TimeoutException {
        List<GetResponse> out = new ArrayList<>();
        Channel ch = c.createChannel();
        try {
            GetResponse r;
            while ((r = ch.basicGet(queue, true)) != null) {
                out.add(r);
            }
        } finally {
            ch.close();
        }
        return out;
    }

    /**
     * Takes every message out of {@code queue} with an auto-ack consumer (much faster than basic.get on a quorum
     * queue) and returns their ids in queue order; waits until as many arrived as the queue held ready.
     */
    static List<String> consumeAllIds(Connection c, String queue) throws IOException, TimeoutException {
        Channel ch = c.createChannel();
        try {
            long n = ch.queueDeclarePassive(queue).getMessageCount();
            List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
            if (n == 0) {
                return ids;
            }
            ch.basicQos(2000);
            String tag = ch.basicConsume(queue, true, (t, d) -> ids.add(d.getProperties().getMessageId()), t -> {});
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                    .pollInterval(java.time.Duration.ofMillis(50)).until(() -> ids.size() >= n);
            ch.basicCancel(tag);
            synchronized (ids) {
                return new ArrayList<>(ids);
            }
        } finally {
            if (ch.isOpen()) {
                ch.close();
            }
        }
    }

    static List<String> ids(List<GetResponse> messages) {
        return messages.stream().map(m -> m.getProps().getMessageId()).toList();
    }

    static long depth(Connection c, String queue) throws IOException, TimeoutException {
        Channel ch = c.createChannel();
        try {
            return ch.queueDeclarePassive(queue).getMessageCount();
        } finally {
            ch.close();
        }
    }
}
