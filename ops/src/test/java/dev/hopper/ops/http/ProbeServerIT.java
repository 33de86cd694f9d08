package dev.hopper.ops.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.consumer.Worker;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** /health of an in-process worker while its own broker connection is closed and recovers. */
@ExtendWith(TestQueues.class)
class ProbeServerIT {

    @Test
    void healthIs503WhileTheBrokerConnectionIsDownAnd200AfterRecovery(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name("health")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        try (com.rabbitmq.client.Connection c = broker.connect("probe-it-declare")) {
            new Topology(config).declare(c);
        }
        String name = "probe-it-worker-" + System.nanoTime();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName(name)
                        // Slow recovery, so the outage is long enough to observe.
                        .recoveryInterval(Duration.ofSeconds(3)).build())
                        .config(config).meterRegistry(registry).handler("job", String.class, (p, ctx) -> { })
                        .build();
                ProbeServer probe = ProbeServer.start(new InetSocketAddress("127.0.0.1", 0), registry,
                        w::isHealthy)) {
            Scrape scrape = new Scrape(probe.address());
            assertThat(scrape.healthStatus()).isEqualTo(503); // not started yet
            w.start();
            assertThat(scrape.healthStatus()).isEqualTo(200);

            assertThat(broker.closeConnections(name + "-consume")).isEqualTo(1);
            await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                    .until(() -> scrape.healthStatus() == 503);
            await().atMost(Duration.ofSeconds(30)).until(() -> scrape.healthStatus() == 200);
            assertThat(w.isConsuming(spec.name())).isTrue();
        }
    }
}
