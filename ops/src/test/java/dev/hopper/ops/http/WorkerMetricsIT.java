package dev.hopper.ops.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import dev.hopper.ops.cli.HopperCommand;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.ConfirmedChannel;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real {@code hopper worker --metrics-port} as a process, feeds it a known mix of tasks and scrapes
 * {@code /metrics} over HTTP. Pins the exported Prometheus names that ops/dashboards/hopper.json queries.
 */
@ExtendWith(TestQueues.class)
class WorkerMetricsIT {
    private static final Pattern METRICS_URL = Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");

    @Test
    void scrapedCountersMatchAKnownMixOfTasksExactly(TestBroker broker, TestQueues queues, @TempDir Path dir)
            throws Exception {
        String queue = queues.name("metrics");
        String yaml = "queues:\n  " + queue + ":\n    tiers: [1s]\n    retry: {delays: [1s], max-attempts: 3}\n"
                + "    breaker: {}\n";
        QueueSpec spec = queues.track(HopperConfig.parse(yaml).requireQueue(queue));
        Path config = dir.resolve("hopper.yml");
        Files.writeString(config, yaml);
        Path log = dir.resolve("worker.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process worker = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                HopperCommand.class.getName(), "--uri", broker.uri().toString(), "--config", config.toString(),
                "worker", "--queue", queue, "--builtin", "fail", "--metrics-port", "0")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try (BrokerConnection conn = BrokerConnection.open(BrokerConfig.builder(broker.uri())
                        .connectionName("metrics-it-publisher").build());
                ConfirmedChannel channel = new ConfirmedChannel(conn, 100, Duration.ofSeconds(10),
                        Duration.ofSeconds(10))) {
            int[] port = new int[1];
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                assertThat(worker.isAlive()).as("worker process; its output:%n%s", Files.readString(log)).isTrue();
                Matcher m = METRICS_URL.matcher(Files.readString(log));
                if (m.find()) {
                    port[0] = Integer.parseInt(m.group(1));
                    return true;
                }
                return false;
            });
            Scrape scrape = new Scrape(port[0]);
            await().atMost(Duration.ofSeconds(30)).until(() -> scrape.healthStatus() == 200);

            // 3 successes, 1 that fails once then succeeds, 1 permanent failure, 1 malformed message.
            for (int i = 0; i < 3; i++) {
                publish(channel, queue, "{}");
            }
            publish(channel, queue, "{\"failures\": 1}");
            publish(channel, queue, "{\"permanent\": true}");
            channel.publish(QueueNames.TASKS_EXCHANGE, queue, new AMQP.BasicProperties.Builder()
                    .messageId("not-json").type("job").deliveryMode(2).build(),
                    "{not json".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);

            // The worker runs every type with its --builtin handler: the task's own type is the tag, not "unknown".
            String labels = "outcome=\"%s\",queue=\"" + queue + "\",type=\"job\"";
            String processed = "outcome=\"%s\",queue=\"" + queue + "\",reason=\"%s\",type=\"job\"";
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                String text = scrape.metrics();
                return value(text, "hopper_tasks_processed_total", processed.formatted("success", "none")) == 4
                        && value(text, "hopper_tasks_processed_total", processed.formatted("dead", "permanent")) == 1
                        && value(text, "hopper_tasks_processed_total", processed.formatted("dead", "malformed")) == 1;
            });
            String text = scrape.metrics();
            // Outcomes with their reasons: one retry for an error, dead letters by reason, zeros pre-created.
            Map<String, Double> expected = Map.of("success/none", 4.0, "retried/error", 1.0, "dead/permanent", 1.0,
                    "dead/malformed", 1.0);
            expected.forEach((key, n) -> assertThat(Scrape.sample(text, "hopper_tasks_processed_total",
                    processed.formatted(key.split("/")[0], key.split("/")[1]))).as(key).hasValue(n));
            // Series are pre-created at zero for the registered types and "unknown", with every outcome's reasons.
            for (String key : List.of("retried/lock-lost", "dead/exhausted", "superseded/none", "lock_busy/lock-busy",
                    "returned/shutdown")) {
                assertThat(Scrape.sample(text, "hopper_tasks_processed_total", ("outcome=\"%s\",queue=\"" + queue
                        + "\",reason=\"%s\",type=\"unknown\"").formatted(key.split("/")[0], key.split("/")[1])))
                        .as(key).hasValue(0.0);
            }
            assertThat(text).doesNotContain("type=\"unknown\",le=").doesNotContain(
                    "outcome=\"success\",queue=\"" + queue + "\",reason=\"none\",type=\"unknown\"} 4");

            // Handler durations: 4 successful runs, 1 failed run retried, 1 permanent (the malformed one never ran).
            assertThat(Scrape.sample(text, "hopper_tasks_duration_seconds_count", labels.formatted("success")))
                    .hasValue(4.0);
            assertThat(Scrape.sample(text, "hopper_tasks_duration_seconds_count", labels.formatted("retried")))
                    .hasValue(1.0);
            assertThat(Scrape.sample(text, "hopper_tasks_duration_seconds_count", labels.formatted("dead")))
                    .hasValue(1.0);
            assertThat(text).contains("hopper_tasks_duration_seconds_bucket{outcome=\"success\",queue=\"" + queue
                    + "\",type=\"job\",le=\"+Inf\"} 4");
            assertThat(Scrape.sample(text, "hopper_tasks_lag_seconds_count",
                    "queue=\"" + queue + "\",type=\"job\"")).hasValue(6.0);
            assertThat(text).contains("hopper_tasks_lag_seconds_bucket{queue=\"" + queue + "\",type=\"job\",le=");
            // Attempts: 3 x 1 + 1 x 2 at success; 1 (permanent) + 0 (malformed) at death.
            assertThat(Scrape.sample(text, "hopper_tasks_attempts_sum", labels.formatted("success"))).hasValue(5.0);
            assertThat(Scrape.sample(text, "hopper_tasks_attempts_count", labels.formatted("dead"))).hasValue(2.0);
            assertThat(Scrape.sample(text, "hopper_tasks_attempts_bucket", labels.formatted("success")
                    + ",le=\"1.0\"")).hasValue(3.0);
            assertThat(Scrape.sample(text, "hopper_circuit_state", "queue=\"" + queue + "\"")).hasValue(0.0);
            assertThat(text).containsPattern("(?m)^hopper_worker_inflight 0\\.0$");
            // Queue depths are polled every few seconds: both dead letters show up as kind="dead".
            await().atMost(Duration.ofSeconds(30)).until(() -> value(scrape.metrics(), "hopper_queue_depth",
                    "kind=\"dead\",queue=\"" + queue + "\"") == 2);
            String later = scrape.metrics();
            // Every series the Grafana dashboard queries is exported.
            assertThat(DashboardTest.EXPORTED).allSatisfy(name -> assertThat(later).containsPattern(
                    "(?m)^" + name + "[{ ]"));
            assertThat(Scrape.sample(later, "hopper_queue_depth", "kind=\"work\",queue=\"" + queue + "\""))
                    .hasValue(0.0);
            // The connection-state gauge and the JVM and process meters.
            assertThat(later).containsPattern("(?m)^hopper_broker_connected 1\\.0$");
            assertThat(later).containsPattern("(?m)^jvm_memory_used_bytes\\{")
                    .containsPattern("(?m)^jvm_threads_live_threads ")
                    .containsPattern("(?m)^jvm_gc_pause_seconds_count\\{|(?m)^jvm_gc_memory_allocated_bytes_total ")
                    .containsPattern("(?m)^process_cpu_usage ").containsPattern("(?m)^process_uptime_seconds ")
                    .containsPattern("(?m)^process_files_open_files ");
            // Latency histograms have the SLO buckets (16 and +Inf), not Micrometer's 60-120 per series.
            assertThat(later.lines().filter(l -> l.startsWith("hopper_tasks_duration_seconds_bucket{outcome="
                    + "\"success\",queue=\"" + queue + "\",")).count()).isEqualTo(17);
            assertThat(later).contains("le=\"0.005\"").contains("le=\"3600.0\"");
            // Every series the alert rules use is exported.
            assertThat(AlertRulesTest.usedSeries()).isNotEmpty().allSatisfy(name -> assertThat(later)
                    .containsPattern("(?m)^" + name + "[{ ]"));
            // The retried task has left its tier; depths are polled every few seconds, so wait for the next poll.
            await().atMost(Duration.ofSeconds(30)).until(() -> value(scrape.metrics(), "hopper_queue_depth",
                    "kind=\"retry\",queue=\"" + queue + "\"") == 0);
        } finally {
            worker.destroy();
            if (!worker.waitFor(30, TimeUnit.SECONDS)) {
                worker.destroyForcibly();
            }
        }
        assertThat(worker.exitValue()).as("drained and exited 0 on SIGTERM").isZero();
    }

    private static double value(String text, String name, String labels) {
        OptionalDouble v = Scrape.sample(text, name, labels);
        return v.isPresent() ? v.getAsDouble() : Double.NaN;
    }

    private static void publish(ConfirmedChannel channel, String queue, String json) throws Exception {
        TaskEnvelope e = TaskEnvelope.fresh(UUID.randomUUID().toString(), "job", null, null, Instant.now(),
                json.getBytes(StandardCharsets.UTF_8));
        channel.publish(QueueNames.TASKS_EXCHANGE, queue, EnvelopeCodec.properties(e), e.body())
                .get(10, TimeUnit.SECONDS);
    }
}
