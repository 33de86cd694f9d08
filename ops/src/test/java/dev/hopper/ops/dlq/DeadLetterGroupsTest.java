package dev.hopper.ops.dlq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.Headers;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeadLetterGroupsTest {

    static DeadLetter letter(String reason, String errorClass, String stack, String failedAt) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put(Headers.DEAD_REASON, reason);
        h.put(Headers.ERROR_CLASS, errorClass);
        h.put(Headers.ERROR_STACK, stack);
        h.put(Headers.FAILED_AT, failedAt);
        return DeadLetter.of(new AMQP.BasicProperties.Builder().messageId("m").type("t").headers(h).build(),
                new byte[0]);
    }

    static final String STACK_A = "java.io.IOException: disk full\n\tat com.acme.Thumbs.write(Thumbs.java:42)\n"
            + "\tat com.acme.Thumbs.run(Thumbs.java:10)";
    static final String STACK_B = "java.io.IOException: timeout\n\tat com.acme.Http.get(Http.java:7)";

    @Test
    void topFrameIsTheFirstAtLine() {
        assertThat(DeadLetter.topFrame(STACK_A)).isEqualTo("at com.acme.Thumbs.write(Thumbs.java:42)");
        assertThat(DeadLetter.topFrame("java.lang.Error: no frames")).isNull();
        assertThat(DeadLetter.topFrame("Caused by: x\r\n    at a.B.c(B.java:1)\r\n")).isEqualTo("at a.B.c(B.java:1)");
    }

    @Test
    void groupIdIsStableShortHexOfTheThreeParts() {
        // SHA-256("exhausted\njava.io.IOException\nat com.acme.Thumbs.write(Thumbs.java:42)"), first 4 bytes.
        String id = DeadLetterGroups.groupId("exhausted", "java.io.IOException",
                "at com.acme.Thumbs.write(Thumbs.java:42)");
        assertThat(id).isEqualTo("6a8420f3");
        assertThat(id).isEqualTo(DeadLetterGroups.groupId("exhausted", "java.io.IOException",
                "at com.acme.Thumbs.write(Thumbs.java:42)"));
        assertThat(id).isNotEqualTo(DeadLetterGroups.groupId("permanent", "java.io.IOException",
                "at com.acme.Thumbs.write(Thumbs.java:42)"));
        // The same message differs only in the error message, which is not part of the group.
        assertThat(letter("exhausted", "java.io.IOException", STACK_A, "2026-11-01T00:00:00Z").groupId())
                .isEqualTo(id);
        assertThat(DeadLetterGroups.groupId(null, null, null)).isEqualTo(DeadLetterGroups.groupId("", "", ""));
    }

    @Test
    void groupsByReasonClassAndTopFrameLargestFirstWithFirstAndLastFailure() {
        DeadLetterGroups g = new DeadLetterGroups();
        g.add(letter("exhausted", "java.io.IOException", STACK_B, "2026-11-05T00:00:00Z"));
        g.add(letter("exhausted", "java.io.IOException", STACK_A, "2026-11-03T00:00:00Z"));
        g.add(letter("exhausted", "java.io.IOException", STACK_A, "2026-11-01T00:00:00Z"));
        g.add(letter("exhausted", "java.io.IOException", STACK_A, "2026-11-04T00:00:00Z"));
        List<DeadLetterGroups.Group> groups = g.groups();
        assertThat(groups).hasSize(2);
        DeadLetterGroups.Group top = groups.get(0);
        assertThat(top.count()).isEqualTo(3);
        assertThat(top.topFrame()).isEqualTo("at com.acme.Thumbs.write(Thumbs.java:42)");
        assertThat(top.firstFailedAt()).isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));
        assertThat(top.lastFailedAt()).isEqualTo(Instant.parse("2026-11-04T00:00:00Z"));
        assertThat(groups.get(1).count()).isEqualTo(1);
        assertThat(groups.get(1).topFrame()).isEqualTo("at com.acme.Http.get(Http.java:7)");
    }
}
