package dev.hopper.ops.dlq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.Headers;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplayPropertiesTest {
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    static DeadLetter deadLetter(Map<String, Object> extra) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put(Headers.DEAD_REASON, "exhausted");
        h.put(Headers.ERROR_CLASS, "java.io.IOException");
        h.put(Headers.ERROR_MESSAGE, "disk full");
        h.put(Headers.ERROR_STACK, "java.io.IOException\n\tat a.B.c(B.java:1)");
        h.put(Headers.FAILED_AT, "2026-11-20T00:00:00Z");
        h.put(Headers.WORKER, "w1");
        h.put(Headers.ATTEMPT, 8);
        h.put(Headers.FIRST_ATTEMPT_AT, "2026-11-19T00:00:00Z");
        h.put(Headers.LOCK_WAITS, 3);
        h.put(Headers.KEY, "repo:1");
        h.put("x-death", List.of(Map.of("count", 1L)));
        h.put("x-first-death-reason", "rejected");
        h.put("x-last-death-queue", "q");
        h.put("x-delivery-count", 4);
        h.putAll(extra);
        return DeadLetter.of(new AMQP.BasicProperties.Builder().messageId("m").type("t").deliveryMode(1).headers(h)
                .build(), "{}".getBytes());
    }

    @Test
    void stripsBrokerHeadersAndDeadReasonAndLeavesAnAuditTrail() {
        DeadLetter d = deadLetter(Map.of());
        AMQP.BasicProperties p = DeadLetterReplayer.replayProperties(d, NOW, "ops@host", false);
        Map<String, Object> h = p.getHeaders();
        assertThat(h).doesNotContainKeys("x-death", "x-first-death-reason", "x-last-death-queue", "x-delivery-count",
                Headers.DEAD_REASON);
        assertThat(h).containsEntry(Headers.REPLAYED_AT, "2026-11-23T12:00:00Z")
                .containsEntry(Headers.REPLAYED_BY, "ops@host")
                .containsEntry(Headers.REPLAY_COUNT, 1);
        // The failure that was replayed stays as history; the task's own bookkeeping is untouched.
        assertThat(h).containsEntry(Headers.ERROR_CLASS, "java.io.IOException")
                .containsEntry(Headers.FAILED_AT, "2026-11-20T00:00:00Z")
                .containsEntry(Headers.WORKER, "w1")
                .containsEntry(Headers.ATTEMPT, 8)
                .containsEntry(Headers.FIRST_ATTEMPT_AT, "2026-11-19T00:00:00Z")
                .containsEntry(Headers.KEY, "repo:1");
        assertThat(p.getMessageId()).isEqualTo("m");
        assertThat(p.getType()).isEqualTo("t");
        assertThat(p.getDeliveryMode()).isEqualTo(2);
        // The dead letter itself is not modified.
        assertThat(d.properties().getHeaders()).containsKeys("x-death", Headers.DEAD_REASON);
    }

    @Test
    void incrementsTheReplayCount() {
        assertThat(DeadLetterReplayer.replayProperties(deadLetter(Map.of(Headers.REPLAY_COUNT, 2)), NOW, "a@b", false)
                .getHeaders()).containsEntry(Headers.REPLAY_COUNT, 3);
        assertThat(DeadLetterReplayer.replayProperties(deadLetter(Map.of(Headers.REPLAY_COUNT, "garbage")), NOW,
                "a@b", false).getHeaders()).containsEntry(Headers.REPLAY_COUNT, 1);
    }

    @Test
    void resetAttemptsStartsTheBudgetOver() {
        Map<String, Object> h = DeadLetterReplayer.replayProperties(deadLetter(Map.of()), NOW, "a@b", true)
                .getHeaders();
        assertThat(h).containsEntry(Headers.ATTEMPT, 0).doesNotContainKeys(Headers.FIRST_ATTEMPT_AT,
                Headers.LOCK_WAITS);
    }
}
