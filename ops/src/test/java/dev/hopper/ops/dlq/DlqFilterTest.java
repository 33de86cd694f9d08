package dev.hopper.ops.dlq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.Headers;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DlqFilterTest {
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    static DeadLetter letter(String id, String type, Map<String, Object> headers, Date timestamp) {
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().messageId(id).type(type)
                .timestamp(timestamp).headers(headers).build();
        return DeadLetter.of(props, "{}".getBytes());
    }

    static final DeadLetter IO_EIGHT_DAYS = letter("m1", "thumb", Map.of(
            Headers.DEAD_REASON, "exhausted",
            Headers.ERROR_CLASS, "java.io.IOException",
            Headers.ERROR_STACK, "java.io.IOException: x\n\tat a.B.c(B.java:1)",
            Headers.FAILED_AT, NOW.minus(Duration.ofDays(8)).toString()), null);

    static final DeadLetter PERMANENT_ONE_DAY = letter("m2", "mail", Map.of(
            Headers.DEAD_REASON, "permanent",
            Headers.ERROR_CLASS, "java.lang.IllegalArgumentException",
            Headers.FAILED_AT, NOW.minus(Duration.ofDays(1)).toString()), null);

    static final DeadLetter UNDATED = letter("m3", "thumb", Map.of(Headers.DEAD_REASON, "malformed"), null);

    static final DeadLetter TIMESTAMP_ONLY = letter("m4", "thumb", Map.of(), Date.from(NOW.minus(Duration.ofDays(30))));

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("no criteria selects all", DlqFilter.ALL, IO_EIGHT_DAYS, true),
                Arguments.of("no criteria selects an undated one", DlqFilter.ALL, UNDATED, true),
                Arguments.of("id match", DlqFilter.builder().id("m1").build(), IO_EIGHT_DAYS, true),
                Arguments.of("id among several", DlqFilter.builder().id("x").id("m2").build(), PERMANENT_ONE_DAY, true),
                Arguments.of("id mismatch", DlqFilter.builder().id("m2").build(), IO_EIGHT_DAYS, false),
                Arguments.of("type match", DlqFilter.builder().type("thumb").build(), IO_EIGHT_DAYS, true),
                Arguments.of("type mismatch", DlqFilter.builder().type("thumb").build(), PERMANENT_ONE_DAY, false),
                Arguments.of("reason match", DlqFilter.builder().reason("exhausted").build(), IO_EIGHT_DAYS, true),
                Arguments.of("reason mismatch", DlqFilter.builder().reason("exhausted").build(), PERMANENT_ONE_DAY,
                        false),
                Arguments.of("reason vs absent header", DlqFilter.builder().reason("exhausted").build(),
                        TIMESTAMP_ONLY, false),
                Arguments.of("error class by full name", DlqFilter.builder().errorClass("java.io.IOException").build(),
                        IO_EIGHT_DAYS, true),
                Arguments.of("error class by simple name", DlqFilter.builder().errorClass("IOException").build(),
                        IO_EIGHT_DAYS, true),
                Arguments.of("error class is not a substring match", DlqFilter.builder().errorClass("Exception")
                        .build(), IO_EIGHT_DAYS, false),
                Arguments.of("error class vs absent header", DlqFilter.builder().errorClass("IOException").build(),
                        UNDATED, false),
                Arguments.of("older than 7d: 8 days old", older("7d"), IO_EIGHT_DAYS, true),
                Arguments.of("older than 7d: 1 day old", older("7d"), PERMANENT_ONE_DAY, false),
                Arguments.of("older than: no date never matches", older("1ms"), UNDATED, false),
                Arguments.of("older than: timestamp property when no failed-at", older("7d"), TIMESTAMP_ONLY, true),
                Arguments.of("group match", DlqFilter.builder().group(IO_EIGHT_DAYS.groupId()).build(), IO_EIGHT_DAYS,
                        true),
                Arguments.of("group mismatch", DlqFilter.builder().group(IO_EIGHT_DAYS.groupId()).build(),
                        PERMANENT_ONE_DAY, false),
                Arguments.of("all criteria must hold", DlqFilter.builder().type("thumb").reason("permanent").build(),
                        IO_EIGHT_DAYS, false),
                Arguments.of("limit is not a criterion", DlqFilter.builder().limit(1).build(), UNDATED, true));
    }

    static DlqFilter older(String d) {
        return DlqFilter.builder().olderThan(dev.hopper.topology.DurationText.parse(d)).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matches(String name, DlqFilter filter, DeadLetter letter, boolean expected) {
        assertThat(filter.matches(letter, NOW)).isEqualTo(expected);
    }

    @Test
    void describesItsCriteriaForLogs() {
        assertThat(DlqFilter.ALL.describe()).isEqualTo("all");
        assertThat(DlqFilter.builder().type("t").reason("exhausted").olderThan(Duration.ofDays(7)).limit(5).build()
                .describe()).isEqualTo("type=t reason=exhausted older-than=7d limit=5");
    }

    @Test
    void selectsAllOnlyWithoutCriteriaAndLimit() {
        assertThat(DlqFilter.ALL.selectsAll()).isTrue();
        assertThat(DlqFilter.builder().limit(3).build().selectsAll()).isFalse();
        assertThat(DlqFilter.builder().type("t").build().selectsAll()).isFalse();
    }

    @Test
    void rejectsANonPositiveLimit() {
        assertThatThrownBy(() -> DlqFilter.builder().limit(0).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limit");
    }

    @Test
    void garbledHeadersAreReadAsAbsent() {
        Map<String, Object> h = new HashMap<>();
        h.put(Headers.FAILED_AT, "yesterday");
        h.put(Headers.ATTEMPT, "many");
        h.put(Headers.ERROR_STACK, 42);
        DeadLetter d = letter("m", "t", h, null);
        assertThat(d.failedAt()).isNull();
        assertThat(d.attempt()).isZero();
        assertThat(d.topFrame()).isNull();
        assertThat(older("1ms").matches(d, NOW)).isFalse();
    }
}
