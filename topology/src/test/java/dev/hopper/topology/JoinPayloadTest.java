package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class JoinPayloadTest {
    private final ObjectMapper mapper = TaskJson.newMapper();

    @Test
    void resultsAreAddedInChildOrderWithNullForNone() throws Exception {
        byte[] out = JoinPayload.withResults(bytes("{\"report\":\"r-1\"}"),
                Arrays.asList("{\"n\":1}", null, "[2]", "\"three\""), mapper);
        JsonNode node = mapper.readTree(out);
        assertThat(node.get("report").asText()).isEqualTo("r-1");
        assertThat(node.get("results").toString()).isEqualTo("[{\"n\":1},null,[2],\"three\"]");
    }

    @Test
    void aNullPayloadBecomesAnObject() throws Exception {
        JsonNode node = mapper.readTree(JoinPayload.withResults(bytes("null"), java.util.List.of(), mapper));
        assertThat(node.toString()).isEqualTo("{\"results\":[]}");
    }

    @Test
    void payloadsThatCannotTakeResultsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> JoinPayload.check(bytes("[1,2]"), mapper))
                .hasMessageContaining("must be a JSON object").hasMessageContaining("not array");
        assertThatThrownBy(() -> JoinPayload.check(bytes("{\"results\":1}"), mapper))
                .hasMessageContaining("must not have a \"results\" field");
        assertThatThrownBy(() -> JoinPayload.check(bytes("{\"a\":"), mapper))
                .hasMessageContaining("must be JSON");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
