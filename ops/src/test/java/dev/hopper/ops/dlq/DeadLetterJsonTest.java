package dev.hopper.ops.dlq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.LongStringHelper;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeadLetterJsonTest {
    final DeadLetterJson json = new DeadLetterJson();

    static AMQP.BasicProperties props(Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId("id-1").type("thumb").contentType("application/json")
                .appId("hopper").timestamp(Date.from(Instant.parse("2026-11-23T10:00:00Z"))).deliveryMode(2)
                .priority(3).correlationId("c-1").headers(headers).build();
    }

    @Test
    void jsonPayloadRoundTripsWithExactNumbersAndTypedHeaders() throws Exception {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("x-hopper-attempt", 8);
        h.put("x-hopper-revision", 5_000_000_000L);
        h.put("x-hopper-dead-reason", LongStringHelper.asLongString("exhausted"));
        h.put("x-flag", true);
        h.put("x-list", List.of("a", 1));
        byte[] body = "{\"price\":1.50,\"big\":123456789012345678901234567890,\"s\":\"é\"}"
                .getBytes(StandardCharsets.UTF_8);

        String line = json.toLine(props(h), body);
        assertThat(line).doesNotContain("\n").contains("\"payload\":{\"price\":1.50");
        JsonNode node = new ObjectMapper().readTree(line);
        assertThat(node.get("headers").get("x-hopper-dead-reason").asText()).isEqualTo("exhausted");
        assertThat(node.has("payload_base64")).isFalse();

        DeadLetterJson.Message back = json.fromLine(line);
        assertThat(new String(back.body(), StandardCharsets.UTF_8)).isEqualTo(new String(body, StandardCharsets.UTF_8));
        AMQP.BasicProperties p = back.properties();
        assertThat(p.getMessageId()).isEqualTo("id-1");
        assertThat(p.getType()).isEqualTo("thumb");
        assertThat(p.getTimestamp().toInstant()).isEqualTo(Instant.parse("2026-11-23T10:00:00Z"));
        assertThat(p.getContentType()).isEqualTo("application/json");
        assertThat(p.getCorrelationId()).isEqualTo("c-1");
        assertThat(p.getPriority()).isEqualTo(3);
        assertThat(p.getDeliveryMode()).isEqualTo(2);
        assertThat(p.getHeaders()).containsEntry("x-hopper-attempt", 8)
                .containsEntry("x-hopper-revision", 5_000_000_000L)
                .containsEntry("x-hopper-dead-reason", "exhausted")
                .containsEntry("x-flag", true)
                .containsEntry("x-list", List.of("a", 1));
    }

    @Test
    void nonJsonBodyGoesAsBase64AndComesBackByteForByte() {
        byte[] body = {0, 1, 2, (byte) 0xff, '{'};
        String line = json.toLine(props(Map.of()), body);
        assertThat(line).contains("\"payload_base64\":\"AAEC/3s=\"").doesNotContain("\"payload\":");
        assertThat(json.fromLine(line).body()).containsExactly(body);
    }

    @Test
    void emptyBodyIsBase64Empty() {
        String line = json.toLine(props(Map.of()), new byte[0]);
        assertThat(json.fromLine(line).body()).isEmpty();
    }

    @Test
    void timestampsAndBytesInHeadersBecomeText() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("x-when", Date.from(Instant.parse("2026-01-02T03:04:05Z")));
        h.put("x-bytes", new byte[] {1, 2});
        h.put("x-decimal", new BigDecimal("2.50"));
        String line = json.toLine(props(h), "{}".getBytes());
        Map<String, Object> back = json.fromLine(line).properties().getHeaders();
        assertThat(back).containsEntry("x-when", "2026-01-02T03:04:05Z").containsEntry("x-bytes", "AQI=")
                .containsEntry("x-decimal", new BigDecimal("2.50"));
    }

    @Test
    void malformedLinesSayWhatIsWrong() {
        assertThatThrownBy(() -> json.fromLine("{nope")).hasMessageStartingWith("not JSON");
        assertThatThrownBy(() -> json.fromLine("[1]")).hasMessage("not a JSON object");
        assertThatThrownBy(() -> json.fromLine("{\"message_id\":1,\"payload\":{}}"))
                .hasMessage("message_id must be a string");
        assertThatThrownBy(() -> json.fromLine("{\"message_id\":\"a\"}"))
                .hasMessage("has neither payload nor payload_base64");
        assertThatThrownBy(() -> json.fromLine("{\"payload_base64\":\"!!\"}")).hasMessage("payload_base64 is not base64");
        assertThatThrownBy(() -> json.fromLine("{\"timestamp\":\"monday\",\"payload\":1}"))
                .hasMessageContaining("timestamp is not an ISO-8601 instant");
        assertThatThrownBy(() -> json.fromLine("{\"headers\":[],\"payload\":1}")).hasMessage("headers must be an object");
    }
}
