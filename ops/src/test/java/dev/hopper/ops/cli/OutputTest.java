package dev.hopper.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutputTest {

    static Map<String, Object> row(String id, Object attempts, Object failedAt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("attempts", attempts);
        m.put("failed_at", failedAt);
        return m;
    }

    @Test
    void textTableAlignsColumnsUnderHeadings() {
        StringWriter s = new StringWriter();
        new TextOutput(new PrintWriter(s)).table(List.of("id", "attempts", "failed_at"),
                List.of(row("a-long-id", 8, Instant.parse("2026-11-01T00:00:00Z")), row("b", 0, null)));
        assertThat(s.toString().split("\\R")).containsExactly(
                "ID         ATTEMPTS  FAILED AT",
                "a-long-id  8         2026-11-01T00:00:00Z",
                "b          0         -");
    }

    @Test
    void jsonLinesPrintOneObjectPerRowWithIsoInstants() throws Exception {
        StringWriter s = new StringWriter();
        Output out = new JsonLinesOutput(new PrintWriter(s));
        out.table(List.of("id"), List.of(row("a", 8, Instant.parse("2026-11-01T00:00:00Z")), row("b", 0, null)));
        out.result("ignored in JSON", Map.of("replayed", 3));
        String[] lines = s.toString().split("\\R");
        assertThat(lines).hasSize(3);
        JsonNode first = new ObjectMapper().readTree(lines[0]);
        assertThat(first.get("id").asText()).isEqualTo("a");
        assertThat(first.get("attempts").asInt()).isEqualTo(8);
        assertThat(first.get("failed_at").asText()).isEqualTo("2026-11-01T00:00:00Z");
        assertThat(new ObjectMapper().readTree(lines[1]).get("failed_at").isNull()).isTrue();
        assertThat(lines[2]).isEqualTo("{\"replayed\":3}");
    }

    @Test
    void textRecordIndentsNestedMapsAndMultilineValues() {
        StringWriter s = new StringWriter();
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("x-hopper-error-stack", "E\n\tat a.B.c");
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("message_id", "m");
        rec.put("headers", headers);
        new TextOutput(new PrintWriter(s)).record(rec);
        assertThat(s.toString().split("\\R")).containsExactly(
                "message_id: m", "headers:", "  x-hopper-error-stack:", "    E", "    \tat a.B.c");
    }

    @Test
    void textResultIsTheSentence() {
        StringWriter s = new StringWriter();
        new TextOutput(new PrintWriter(s)).result("replayed 3", Map.of("replayed", 3));
        assertThat(s.toString()).isEqualTo("replayed 3" + System.lineSeparator());
    }
}
