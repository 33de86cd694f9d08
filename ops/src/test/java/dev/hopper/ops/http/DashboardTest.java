package dev.hopper.ops.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** ops/dashboards/hopper.json is valid JSON and queries only series a worker exports. */
class DashboardTest {
    /** The Prometheus series the dashboard may use; {@link WorkerMetricsIT} checks a worker exports each. */
    static final Set<String> EXPORTED = Set.of("hopper_tasks_processed_total", "hopper_tasks_duration_seconds_bucket",
            "hopper_tasks_lag_seconds_bucket", "hopper_tasks_attempts_bucket", "hopper_queue_depth",
            "hopper_worker_inflight", "hopper_circuit_state");

    @Test
    void everyPanelQueriesExportedSeries() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(Path.of("dashboards", "hopper.json")));
        assertThat(dashboard.path("title").asText()).isEqualTo("Hopper");
        List<String> exprs = new ArrayList<>();
        dashboard.path("panels").forEach(p -> p.path("targets").forEach(t -> exprs.add(t.path("expr").asText())));
        assertThat(exprs).hasSizeGreaterThanOrEqualTo(8).allMatch(e -> !e.isBlank());
        Set<String> used = new TreeSet<>();
        Matcher m = Pattern.compile("hopper_[a-z_]+").matcher(String.join("\n", exprs));
        while (m.find()) {
            used.add(m.group());
        }
        assertThat(used).isEqualTo(new TreeSet<>(EXPORTED));
        // Percentiles come from the histogram buckets, per le.
        assertThat(exprs).filteredOn(e -> e.contains("histogram_quantile")).allMatch(e -> e.contains("_bucket")
                && e.contains("by (le"));
        assertThat(dashboard.path("panels")).extracting(p -> p.path("title").asText()).contains(
                "Throughput by outcome", "Dead-letter rate", "Handler duration", "Lag: publish to handler start",
                "Queue depth by kind", "Circuit breaker state");
    }
}
