package dev.hopper.ops.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TaskLineTest {

    @Test
    void taskLinesCarryPayloadKeyAndTime() {
        TaskLine delayed = TaskLine.parse("{\"payload\": {\"user\": 7}, \"key\": \"user:7\", \"delay\": \"30s\"}");
        assertThat(text(delayed)).isEqualTo("{\"user\":7}");
        assertThat(delayed.key()).isEqualTo("user:7");
        assertThat(delayed.delay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(delayed.notBefore()).isNull();

        assertThat(TaskLine.parse("{\"payload\": 1, \"not_before\": \"2026-12-24T19:00:00+01:00\"}").notBefore())
                .isEqualTo(Instant.parse("2026-12-24T18:00:00Z"));
        assertThat(TaskLine.parse("{\"payload\": 1, \"not_before\": 1798135200000}").notBefore())
                .isEqualTo(Instant.ofEpochMilli(1798135200000L));
    }

    @Test
    void anythingElseIsABarePayload() {
        for (String line : new String[] {"{\"user\": 7}", "[1, 2]", "42", "{\"payload\": 1, \"other\": 2}",
                "{\"delay\": \"30s\"}", "not json"}) {
            TaskLine t = TaskLine.parse(line);
            assertThat(text(t)).as(line).isEqualTo(line);
            assertThat(t.delay()).isNull();
            assertThat(t.notBefore()).isNull();
        }
        assertThat(text(TaskLine.parse("{\"payload\": {\"payload\": 1, \"delay\": \"5s\"}}")))
                .as("a payload that looks like a task line, wrapped").isEqualTo("{\"payload\":1,\"delay\":\"5s\"}");
    }

    @Test
    void badTaskLineMembersSayWhatIsWrong() {
        assertThatThrownBy(() -> TaskLine.parse("{\"payload\": 1, \"delay\": \"soon\"}"))
                .hasMessageContaining("\"soon\" is not a duration");
        assertThatThrownBy(() -> TaskLine.parse("{\"payload\": 1, \"delay\": 30}"))
                .hasMessageContaining("\"delay\" must be a duration like \"30s\"");
        assertThatThrownBy(() -> TaskLine.parse("{\"payload\": 1, \"not_before\": \"tomorrow\"}"))
                .hasMessageContaining("\"not_before\" must be an instant");
        assertThatThrownBy(() -> TaskLine.parse("{\"payload\": 1, \"not_before\": -5}"))
                .hasMessageContaining(">= 0");
        assertThatThrownBy(() -> TaskLine.parse("{\"payload\": 1, \"delay\": \"1s\", \"not_before\": 5}"))
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> TaskLine.parse("{\"payload\": 1, \"key\": 5}"))
                .hasMessageContaining("\"key\" must be a non-empty string");
    }

    private static String text(TaskLine t) {
        return new String(t.payload(), StandardCharsets.UTF_8);
    }
}
