package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.LongStringHelper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TaskScheduleTest {
    private static final byte[] BODY = "{}".getBytes(StandardCharsets.UTF_8);
    private static final Instant T0 = Instant.parse("2026-12-02T05:00:00Z");
    private static final CoalesceWindow WINDOW = new CoalesceWindow(Duration.ofSeconds(30), Duration.ofMinutes(5));
    private final EnvelopeCodec codec = new EnvelopeCodec(1024);

    @Test
    void roundTripsThroughTheMessageProperties() {
        TaskSchedule s = new TaskSchedule(T0, WINDOW, 3, 7L);
        AMQP.BasicProperties p = EnvelopeCodec.properties(
                TaskEnvelope.fresh("m-1", "digest", "user:1", null, T0, BODY), s);

        assertThat(p.getHeaders()).containsEntry(Headers.NOT_BEFORE, T0.toEpochMilli())
                .containsEntry(Headers.COALESCE, "30000/300000").containsEntry(Headers.HOPS, 3)
                .containsEntry(Headers.COALESCED, 7L);
        EnvelopeCodec.Decoded d = codec.decode(p, BODY);
        assertThat(d).isInstanceOf(EnvelopeCodec.Valid.class);
        assertThat(((EnvelopeCodec.Valid) d).schedule()).isEqualTo(s);
    }

    @Test
    void noScheduleHeadersIsNone() {
        AMQP.BasicProperties p = EnvelopeCodec.properties(TaskEnvelope.fresh("m-1", "t", null, null, T0, BODY));

        assertThat(p.getHeaders()).doesNotContainKeys(Headers.NOT_BEFORE, Headers.COALESCE, Headers.HOPS,
                Headers.COALESCED);
        assertThat(((EnvelopeCodec.Valid) codec.decode(p, BODY)).schedule()).isEqualTo(TaskSchedule.NONE);
    }

    @Test
    void isNoneExactlyWhenEqualToNone() {
        assertThat(TaskSchedule.NONE.isNone()).isTrue();
        assertThat(new TaskSchedule(null, null, 0, null).isNone()).isTrue();
        for (TaskSchedule other : List.of(new TaskSchedule(T0, null, 0, null),
                new TaskSchedule(null, new CoalesceWindow(java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(5)), 0, null),
                new TaskSchedule(null, null, 1, null), new TaskSchedule(null, null, 0, 0L))) {
            assertThat(other.isNone()).as("%s", other).isFalse();
            assertThat(other).isNotEqualTo(TaskSchedule.NONE);
        }
    }

    static List<Arguments> readable() {
        long ms = T0.toEpochMilli();
        return List.of(
                Arguments.of("long", ms),
                Arguments.of("integer types of any width", Long.valueOf(ms)),
                Arguments.of("digits as LongString", LongStringHelper.asLongString(Long.toString(ms))),
                Arguments.of("digits as String", " " + ms + " "),
                Arguments.of("ISO-8601 of older publishers", LongStringHelper.asLongString(T0.toString())),
                Arguments.of("AMQP timestamp", Date.from(T0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readable")
    void notBeforeIsReadInEveryAcceptedForm(String name, Object value) {
        assertThat(TaskSchedule.read(Map.of(Headers.NOT_BEFORE, value)).notBefore()).isEqualTo(T0);
    }

    static List<Arguments> hostile() {
        return List.of(
                Arguments.of("negative", -1L, "out of range"),
                Arguments.of("negative as text", "-5", "out of range"),
                Arguments.of("a word", LongStringHelper.asLongString("tomorrow"), "should be epoch milliseconds"),
                Arguments.of("empty", "", "should be epoch milliseconds"),
                Arguments.of("year 300000 in ms", 9_400_000_000_000_000L, "out of range"),
                Arguments.of("year 300000 as ISO", "+300000-01-01T00:00:00Z", "out of range"),
                Arguments.of("too many digits", "99999999999999999999999", "should be epoch milliseconds"),
                Arguments.of("a float", 1.7e12, "a Double"),
                Arguments.of("a boolean", true, "a Boolean"),
                Arguments.of("a list", List.of(1L), "should be epoch milliseconds"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void hostileNotBeforeIsMalformedNeverACrash(String name, Object value, String problem) {
        assertThatThrownBy(() -> TaskSchedule.read(Map.of(Headers.NOT_BEFORE, value)))
                .isInstanceOf(HeaderValues.Mistyped.class).hasMessageStartingWith("header x-hopper-not-before")
                .hasMessageContaining(problem);

        EnvelopeCodec.Decoded d = codec.decode(props(Map.of(Headers.NOT_BEFORE, value)), BODY);
        assertThat(d).isInstanceOf(EnvelopeCodec.Malformed.class);
        assertThat(((EnvelopeCodec.Malformed) d).reason()).startsWith("header x-hopper-not-before");
    }

    static List<Arguments> hostileOthers() {
        return List.of(
                Arguments.of(Headers.COALESCE, "30s/5m", "is not <debounce-ms>/<max-delay-ms>"),
                Arguments.of(Headers.COALESCE, "5000", "is not <debounce-ms>/<max-delay-ms>"),
                Arguments.of(Headers.COALESCE, "5000/1000", "must be at least the debounce"),
                Arguments.of(Headers.COALESCE, "0/1000", "at least 1ms"),
                Arguments.of(Headers.COALESCE, 5000, "should be a string"),
                Arguments.of(Headers.HOPS, -1, "should be a count >= 0"),
                Arguments.of(Headers.HOPS, "many", "should be a whole number"),
                Arguments.of(Headers.COALESCED, -3L, "should be a count >= 0"));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("hostileOthers")
    void otherScheduleHeadersAreCheckedToo(String header, Object value, String problem) {
        Map<String, Object> h = new HashMap<>();
        h.put(Headers.KEY, "k");
        h.put(header, value);
        EnvelopeCodec.Decoded d = codec.decode(props(h), BODY);

        assertThat(d).isInstanceOf(EnvelopeCodec.Malformed.class);
        assertThat(((EnvelopeCodec.Malformed) d).reason()).startsWith("header " + header).contains(problem);
    }

    @Test
    void coalescedTaskWithoutKeyIsMalformed() {
        EnvelopeCodec.Decoded d = codec.decode(props(Map.of(Headers.COALESCE, "1000/2000")), BODY);

        assertThat(d).isEqualTo(new EnvelopeCodec.Malformed(
                "header x-hopper-coalesce needs a x-hopper-key (runs are coalesced per key)", "m-1", "t"));
    }

    @Test
    void earlinessAndChangesForAHop() {
        TaskSchedule s = new TaskSchedule(T0, null, 1, null);

        assertThat(s.isEarlyAt(T0.minusMillis(1))).isTrue();
        assertThat(s.isEarlyAt(T0)).isFalse();
        assertThat(TaskSchedule.NONE.isEarlyAt(T0)).isFalse();
        assertThat(s.withOneMoreHop().headers()).containsEntry(Headers.HOPS, 2)
                .containsEntry(Headers.NOT_BEFORE, T0.toEpochMilli()).containsEntry(Headers.COALESCE, null);
        assertThat(s.withNotBefore(T0.plusSeconds(1)).notBefore()).isEqualTo(T0.plusSeconds(1));
    }

    @Test
    void scheduleRefusesImpossibleValues() {
        assertThatThrownBy(() -> new TaskSchedule(Instant.EPOCH.minusMillis(1), null, 0, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TaskSchedule(null, null, -1, null)).isInstanceOf(IllegalArgumentException.class);
    }

    private static AMQP.BasicProperties props(Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId("m-1").type("t").timestamp(Date.from(T0))
                .headers(headers).build();
    }
}
