package dev.hopper.ops.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * ops/alerts/hopper-rules.yml is a well-formed rules file whose alerts each have an expression, a severity and a
 * summary; {@link WorkerMetricsIT} checks a real worker's scrape has every series it uses ({@code promtool check
 * rules} in .ci/run checks the PromQL).
 */
class AlertRulesTest {
    static final Path RULES = Path.of("alerts", "hopper-rules.yml");

    static List<JsonNode> rules() throws Exception {
        JsonNode doc = new YAMLMapper().readTree(RULES.toFile());
        List<JsonNode> out = new ArrayList<>();
        doc.path("groups").forEach(g -> g.path("rules").forEach(out::add));
        return out;
    }

    /** The Prometheus series (hopper_*) the rules query. */
    static Set<String> usedSeries() throws Exception {
        Set<String> used = new TreeSet<>();
        for (JsonNode r : rules()) {
            Matcher m = Pattern.compile("hopper_[a-z_]+").matcher(r.path("expr").asText());
            while (m.find()) {
                used.add(m.group());
            }
        }
        return used;
    }

    @Test
    void everyAlertIsComplete() throws Exception {
        List<JsonNode> rules = rules();
        assertThat(rules).extracting(r -> r.path("alert").asText()).contains("HopperDeadLettersGrowing",
                "HopperRetriesRising", "HopperConsumersGone", "HopperCircuitBreakerOpen", "HopperLagHigh");
        assertThat(rules).allSatisfy(r -> {
            assertThat(r.path("expr").asText()).as(r.path("alert").asText()).isNotBlank();
            assertThat(r.path("labels").path("severity").asText()).isIn("info", "warning", "critical");
            assertThat(r.path("annotations").path("summary").asText()).isNotBlank();
        });
        assertThat(usedSeries()).contains("hopper_tasks_processed_total", "hopper_queue_depth",
                "hopper_circuit_state", "hopper_tasks_lag_seconds_bucket", "hopper_broker_connected");
    }
}
