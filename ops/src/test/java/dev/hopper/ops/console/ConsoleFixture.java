package dev.hopper.ops.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/** Dead letters made by hand (the headers a worker writes), a console on a free port, and HTTP calls to it. */
final class ConsoleFixture {
    static final String TOKEN = "test-token-0123456789";
    static final ObjectMapper JSON = new ObjectMapper();

    private ConsoleFixture() {}

    /** A work queue with one short tier, declared on the broker and registered for cleanup. */
    static QueueSpec declare(Connection c, TestQueues queues, String hint) {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name(hint)).tiers(List.of(DelayTier.parse("5s")))
                .build());
        new Topology(HopperConfig.of(List.of(spec))).declare(c);
        return spec;
    }

    /** One kind of failure: a dead letter's reason, class and top frame. */
    record Failure(String reason, String errorClass, String frame) {}

    static AMQP.BasicProperties props(String queue, String id, String type, String key, Failure f, Instant failedAt) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put(Headers.ATTEMPT, 8);
        h.put(Headers.KEY, key);
        h.put(Headers.PUBLISHED_AT, failedAt.minusSeconds(3600).toString());
        h.put(Headers.DEAD_REASON, f.reason());
        h.put(Headers.ERROR_CLASS, f.errorClass());
        h.put(Headers.ERROR_MESSAGE, "it broke: " + id);
        h.put(Headers.ERROR_STACK, f.errorClass() + ": it broke\n\tat " + f.frame() + "\n\tat com.acme.Main.run(Main.java:1)");
        h.put(Headers.FAILED_AT, failedAt.toString());
        h.put(Headers.WORKER, "worker-1@host");
        h.put(Headers.ORIGIN_QUEUE, queue);
        return new AMQP.BasicProperties.Builder().messageId(id).type(type).contentType("application/json")
                .appId("hopper").deliveryMode(2).timestamp(new Date()).headers(h).build();
    }

    /** Publishes {@code n} dead letters into {@code queue}'s dead queue with confirms. */
    static void publish(Connection c, String queue, int n, IntFunction<AMQP.BasicProperties> props,
            IntFunction<byte[]> body) throws Exception {
        Channel ch = c.createChannel();
        try {
            ch.confirmSelect();
            for (int i = 0; i < n; i++) {
                ch.basicPublish(QueueNames.DEAD_EXCHANGE, queue, true, props.apply(i), body.apply(i));
                if (i % 1000 == 999) {
                    ch.waitForConfirmsOrDie(30_000);
                }
            }
            ch.waitForConfirmsOrDie(30_000);
        } finally {
            ch.close();
        }
    }

    static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static long depth(Connection c, String queue) throws Exception {
        Channel ch = c.createChannel();
        try {
            return ch.queueDeclarePassive(queue).getMessageCount();
        } finally {
            ch.close();
        }
    }

    /**
     * Waits (30 s at most) until {@code queue} has {@code n} ready messages: the console's background reads hold a
     * dead queue's letters for a moment, and a passive declare counts only ready ones.
     */
    static void awaitDepth(Connection c, String queue, long n) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> depth(c, queue) == n);
    }

    static Console start(TestBroker broker, String name, List<QueueSpec> queues) {
        return Console.start(ConsoleSettings.builder(BrokerConfig.builder(broker.uri()).connectionName(name).build(),
                        HopperConfig.of(queues), TOKEN)
                .address(new InetSocketAddress("127.0.0.1", 0)).refreshEvery(Duration.ofSeconds(2))
                .idleTimeout(Duration.ofSeconds(3)).operator("tester@test/console").build());
    }

    /** A small client for the console's API. */
    static final class Client {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private final String base;

        Client(Console console) {
            this.base = "http://127.0.0.1:" + console.address().getPort();
        }

        String base() {
            return base;
        }

        HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
        }

        JsonNode getJson(String path) throws IOException, InterruptedException {
            HttpResponse<String> r = get(path);
            if (r.statusCode() != 200) {
                throw new AssertionError("GET " + path + " answered " + r.statusCode() + ": " + r.body());
            }
            return JSON.readTree(r.body());
        }

        HttpResponse<String> post(String path, String body, Map<String, String> headers)
                throws IOException, InterruptedException {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                    .POST(HttpRequest.BodyPublishers.ofString(body));
            headers.forEach(b::header);
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        JsonNode postJson(String path, String body) throws IOException, InterruptedException {
            HttpResponse<String> r = post(path, body, Map.of("Content-Type", "application/json",
                    RequestGuard.TOKEN_HEADER, TOKEN));
            if (r.statusCode() != 200) {
                throw new AssertionError("POST " + path + " answered " + r.statusCode() + ": " + r.body());
            }
            return JSON.readTree(r.body());
        }
    }
}
