package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.LongStringHelper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EnvelopeCodecTest {
    private static final byte[] BODY = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
    private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
    private final EnvelopeCodec codec = new EnvelopeCodec(1024);

    @Test
    void roundTripsEveryField() {
        TaskEnvelope e = new TaskEnvelope("id-1", "resize", "repo:42", 7L, 3, T0, T0.plusSeconds(5), 2, 1, BODY,
                Lineage.joinOf("parent-1"));
        AMQP.BasicProperties p = EnvelopeCodec.properties(e);
        assertThat(p.getDeliveryMode()).isEqualTo(2);
        assertThat(p.getContentType()).isEqualTo("application/json");
        assertThat(p.getAppId()).isEqualTo("hopper");
        assertThat(p.getMessageId()).isEqualTo("id-1");
        assertThat(p.getType()).isEqualTo("resize");
        assertThat(p.getTimestamp()).isEqualTo(Date.from(T0));
        assertThat(p.getHeaders()).containsEntry(Headers.ATTEMPT, 3).containsEntry(Headers.KEY, "repo:42")
                .containsEntry(Headers.REVISION, 7L).containsEntry(Headers.PUBLISHED_AT, T0.toString())
                .containsEntry(Headers.PARENT, "parent-1").containsEntry(Headers.JOIN, true);

        EnvelopeCodec.Decoded d = codec.decode(p, BODY);
        assertThat(d).isInstanceOf(EnvelopeCodec.Valid.class);
        TaskEnvelope back = ((EnvelopeCodec.Valid) d).envelope();
        assertThat(back).usingRecursiveComparison().isEqualTo(e);
    }

    @Test
    void timeHeadersInEpochMillisecondsAreReadLikeIsoStrings() {
        TaskEnvelope e = new TaskEnvelope("id-1", "resize", "repo:42", 7L, 3, T0, T0.plusSeconds(5), 2, 1, BODY,
                Lineage.joinOf("parent-1"));
        Map<String, Object> h = new HashMap<>(EnvelopeCodec.properties(e).getHeaders());
        h.put(Headers.PUBLISHED_AT, T0.toEpochMilli());
        h.put(Headers.FIRST_ATTEMPT_AT, (int) 5000); // an int over the wire still means epoch milliseconds

        TaskEnvelope back = ((EnvelopeCodec.Valid) codec.decode(props(h), BODY)).envelope();

        assertThat(back.publishedAt()).isEqualTo(T0);
        assertThat(back.firstAttemptAt()).isEqualTo(Instant.ofEpochMilli(5000));
    }

    @Test
    void headersAsTheBrokerDeliversThemAreRead() {
        // Over the wire strings arrive as LongString and small numbers as Integer.
        Map<String, Object> h = new HashMap<>();
        h.put(Headers.KEY, LongStringHelper.asLongString("k"));
        h.put(Headers.REVISION, 5);
        h.put(Headers.ATTEMPT, (byte) 2);
        h.put(Headers.FIRST_ATTEMPT_AT, LongStringHelper.asLongString(T0.toString()));
        AMQP.BasicProperties p = props(h);
        TaskEnvelope e = ((EnvelopeCodec.Valid) codec.decode(p, BODY)).envelope();
        assertThat(e.key()).isEqualTo("k");
        assertThat(e.revision()).isEqualTo(5L);
        assertThat(e.attempt()).isEqualTo(2);
        assertThat(e.firstAttemptAt()).isEqualTo(T0);
    }

    @Test
    void missingHeadersAreAbsentNotErrors() {
        TaskEnvelope e = ((EnvelopeCodec.Valid) codec.decode(props(null), BODY)).envelope();
        assertThat(e.attempt()).isZero();
        assertThat(e.key()).isNull();
        assertThat(e.revision()).isNull();
        assertThat(e.firstAttemptAt()).isNull();
        assertThat(e.lineage()).isEqualTo(Lineage.NONE);
        // No published-at header: the AMQP timestamp stands in.
        assertThat(e.publishedAt()).isEqualTo(T0);
    }

    static List<Arguments> malformed() {
        return List.of(
                Arguments.of("attempt as text", Map.of(Headers.ATTEMPT, LongStringHelper.asLongString("three")), BODY,
                        "header x-hopper-attempt should be a whole number but is \"three\""),
                Arguments.of("negative attempt", Map.of(Headers.ATTEMPT, -1), BODY,
                        "header x-hopper-attempt should be a count >= 0 but is -1"),
                // Finding 13: Integer.MAX_VALUE overflowed to a negative attempt on the next retry.
                Arguments.of("attempt at Integer.MAX_VALUE", Map.of(Headers.ATTEMPT, Integer.MAX_VALUE), BODY,
                        "header x-hopper-attempt should be a count <= 1000000 but is 2147483647"),
                Arguments.of("attempt at 2^63-1", Map.of(Headers.ATTEMPT, Long.MAX_VALUE), BODY,
                        "header x-hopper-attempt should be a count <= 1000000 but is 9223372036854775807"),
                Arguments.of("attempt as a table", Map.of(Headers.ATTEMPT, new java.util.HashMap<>(Map.of("n", 1))), BODY,
                        "header x-hopper-attempt should be a whole number but is a HashMap"),
                Arguments.of("revision as boolean", Map.of(Headers.REVISION, true), BODY,
                        "header x-hopper-revision should be a whole number but is a Boolean"),
                Arguments.of("key as number", Map.of(Headers.KEY, 42), BODY,
                        "header x-hopper-key should be a string but is a Integer"),
                Arguments.of("bad first-attempt", Map.of(Headers.FIRST_ATTEMPT_AT, "yesterday"), BODY,
                        "header x-hopper-first-attempt-at should be an ISO-8601 instant but is \"yesterday\""),
                Arguments.of("parent as number", Map.of(Headers.PARENT, 7), BODY,
                        "header x-hopper-parent should be a string but is a Integer"),
                Arguments.of("join without parent", Map.of(Headers.JOIN, true), BODY,
                        "header x-hopper-join is set but x-hopper-parent is missing (a join is the follow-up of a"
                                + " parent)"),
                Arguments.of("join as number", Map.of(Headers.PARENT, "p", Headers.JOIN, 1), BODY,
                        "header x-hopper-join should be a boolean but is a Integer"),
                Arguments.of("empty body", Map.of(), new byte[0], "empty body"),
                Arguments.of("oversized body", Map.of(), new byte[1025], "body of 1025 bytes exceeds the limit of 1024"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void unreadableInputIsMalformedNeverAnException(String name, Map<String, Object> headers, byte[] body, String reason) {
        EnvelopeCodec.Decoded d = codec.decode(props(headers), body);
        assertThat(d).isEqualTo(new EnvelopeCodec.Malformed(reason, "m-1", "resize"));
    }

    @Test
    void missingIdentityIsMalformed() {
        assertThat(codec.decode(new AMQP.BasicProperties.Builder().type("t").build(), BODY))
                .isEqualTo(new EnvelopeCodec.Malformed("no message_id property", null, "t"));
        assertThat(codec.decode(new AMQP.BasicProperties.Builder().messageId("m").build(), BODY))
                .isEqualTo(new EnvelopeCodec.Malformed("no type property", "m", null));
        assertThat(codec.decode(null, BODY)).isInstanceOf(EnvelopeCodec.Malformed.class);
        assertThat(codec.decode(props(null), null)).isInstanceOf(EnvelopeCodec.Malformed.class);
    }

    @Test
    void republishedCopyDropsBrokerHeadersAndLeavesTheOriginalAlone() {
        Map<String, Object> h = new HashMap<>();
        h.put("x-death", List.of(Map.of("count", 1L)));
        h.put("x-first-death-queue", "q");
        h.put("x-last-death-reason", "expired");
        h.put("x-delivery-count", 3);
        h.put(Headers.ATTEMPT, 1);
        h.put("user-header", "kept");
        AMQP.BasicProperties original = props(h);
        Map<String, Object> changes = new HashMap<>();
        changes.put(Headers.ATTEMPT, 2);
        changes.put("user-header", null);
        AMQP.BasicProperties copy = EnvelopeCodec.republished(original, changes);
        assertThat(copy.getHeaders()).containsOnlyKeys(Headers.ATTEMPT).containsEntry(Headers.ATTEMPT, 2);
        assertThat(copy.getMessageId()).isEqualTo("m-1");
        assertThat(copy.getDeliveryMode()).isEqualTo(2);
        assertThat(original.getHeaders()).containsKeys("x-death", "user-header").containsEntry(Headers.ATTEMPT, 1);
    }

    @Test
    void truncateMarksTheCut() {
        assertThat(Headers.truncate("abcdef", 4)).isEqualTo("abc…");
        assertThat(Headers.truncate("abc", 4)).isEqualTo("abc");
    }

    private static AMQP.BasicProperties props(Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId("m-1").type("resize").timestamp(Date.from(T0))
                .headers(headers).build();
    }
}
