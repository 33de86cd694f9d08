package dev.hopper.ops.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.ops.dlq.DlqFilter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class LetterQueryTest {
    static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
    static final IndexedLetter LETTER = new IndexedLetter(0, "id-1", "resize", "exhausted", "java.io.IOException",
            "boom", "at a.B.c(B.java:1)", "user:7", NOW.minus(Duration.ofHours(2)), 8, "3fa2c1d0");

    @Test
    void matchesEachCriterion() {
        assertThat(LetterQuery.ALL.matches(LETTER, NOW)).isTrue();
        assertThat(query("exhausted", null, null, null, null, null).matches(LETTER, NOW)).isTrue();
        assertThat(query("permanent", null, null, null, null, null).matches(LETTER, NOW)).isFalse();
        assertThat(query(null, "resize", "IOException", null, null, null).matches(LETTER, NOW)).isTrue();
        assertThat(query(null, null, "java.io.IOException", null, null, null).matches(LETTER, NOW)).isTrue();
        assertThat(query(null, null, "io.IOException", null, null, null).matches(LETTER, NOW)).isFalse();
        assertThat(query(null, null, null, "user:7", null, null).matches(LETTER, NOW)).isTrue();
        assertThat(query(null, null, null, "user:8", null, null).matches(LETTER, NOW)).isFalse();
        assertThat(query(null, null, null, null, Duration.ofHours(1), null).matches(LETTER, NOW)).isTrue();
        assertThat(query(null, null, null, null, Duration.ofHours(3), null).matches(LETTER, NOW)).isFalse();
        assertThat(query(null, null, null, null, null, "3fa2c1d0").matches(LETTER, NOW)).isTrue();
        assertThat(query(null, null, null, null, null, "ffffffff").matches(LETTER, NOW)).isFalse();
    }

    @Test
    void blankCriteriaSelectEverything() {
        assertThat(query(" ", "", null, "  ", null, "").selectsAll()).isTrue();
    }

    @Test
    void becomesTheSameFilterAsHopperDlqWithTheKeyAsIds() {
        DlqFilter f = query("exhausted", "resize", "IOException", "user:7", Duration.ofDays(7), "3fa2c1d0")
                .toDlqFilter(List.of("a", "b"));
        assertThat(f.ids()).containsExactlyInAnyOrder("a", "b");
        assertThat(f.describe()).endsWith(" type=resize reason=exhausted error-class=IOException older-than=7d "
                + "group=3fa2c1d0");
        assertThat(query("exhausted", null, null, null, null, null).toDlqFilter(List.of()).ids()).isEmpty();
    }

    private static LetterQuery query(String reason, String type, String errorClass, String key, Duration olderThan,
            String group) {
        return new LetterQuery(reason, type, errorClass, key, olderThan, group);
    }
}
