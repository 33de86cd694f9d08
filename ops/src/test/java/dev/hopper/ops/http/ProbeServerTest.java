package dev.hopper.ops.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.topology.HopperException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ProbeServerTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicBoolean healthy = new AtomicBoolean(true);

    @Test
    void servesPrometheusTextAndHealthOnLoopback() throws Exception {
        Counter.builder("hopper.tasks.processed").tags("queue", "q", "type", "t", "outcome", "success")
                .register(registry).increment(3);
        try (ProbeServer probe = ProbeServer.start(new InetSocketAddress("127.0.0.1", 0), registry, healthy::get)) {
            assertThat(probe.address().getAddress().isLoopbackAddress()).isTrue();
            assertThat(probe.address().getPort()).isPositive();
            Scrape scrape = new Scrape(probe.address());
            HttpResponse<String> metrics = scrape.get("/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type")).contains(ProbeServer.PROMETHEUS_TEXT);
            assertThat(Scrape.sample(metrics.body(), "hopper_tasks_processed_total",
                    "outcome=\"success\",queue=\"q\",type=\"t\"")).hasValue(3.0);

            assertThat(scrape.get("/health").statusCode()).isEqualTo(200);
            assertThat(scrape.get("/health").body()).isEqualTo("UP\n");
            healthy.set(false);
            assertThat(scrape.get("/health").statusCode()).isEqualTo(503);
            assertThat(scrape.get("/health").body()).isEqualTo("DOWN\n");

            assertThat(scrape.get("/nope").statusCode()).isEqualTo(404);
            HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + probe.address().getPort() + "/health"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
        }
    }

    @Test
    void aPortInUseIsAClearError() {
        try (ProbeServer first = ProbeServer.start(new InetSocketAddress("127.0.0.1", 0), registry, healthy::get)) {
            int port = first.address().getPort();
            assertThatThrownBy(() -> ProbeServer.start(new InetSocketAddress("127.0.0.1", port), registry,
                    healthy::get)).isInstanceOf(HopperException.class)
                    .hasMessageContaining("cannot serve metrics on 127.0.0.1:" + port)
                    .hasMessageContaining("--metrics-port");
        }
    }
}
