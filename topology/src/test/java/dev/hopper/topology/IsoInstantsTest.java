package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The fast forms agree with the JDK's on everything the fast path takes, and leave the rest to it. */
class IsoInstantsTest {

    @Test
    void formatsAndParsesLikeTheJdkAcrossTheRange() {
        Random random = new Random(18);
        long min = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
        long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        for (int i = 0; i < 200_000; i++) {
            long second = min + Math.floorMod(random.nextLong(), max - min + 1);
            int nano = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1_000;
                default -> random.nextInt(1_000_000_000);
            };
            Instant t = Instant.ofEpochSecond(second, nano);
            String jdk = t.toString();
            assertThat(IsoInstants.format(t)).isEqualTo(jdk);
            assertThat(IsoInstants.parse(jdk)).isEqualTo(t);
        }
        for (Instant edge : new Instant[] {Instant.EPOCH, Instant.MIN, Instant.MAX, Instant.parse("-0001-12-31T23:59:59Z"),
                Instant.parse("+10000-01-01T00:00:00Z"), Instant.parse("9999-12-31T23:59:59.999999999Z"),
                Instant.parse("2024-02-29T12:00:00.100Z")}) {
            assertThat(IsoInstants.format(edge)).isEqualTo(edge.toString());
            assertThat(HeaderValues.instant(java.util.Map.of("t", edge.toString()), "t")).contains(edge);
        }
    }

    @Test
    void fractionsOfAnyLengthParseLikeTheJdk() {
        for (String s : new String[] {"2026-12-02T10:00:00.1Z", "2026-12-02T10:00:00.12Z", "2026-12-02T10:00:00.1234Z",
                "2026-12-02T10:00:00.12345678Z", "2026-12-02T10:00:00.000000001Z", "2026-12-02T10:00:00Z"}) {
            assertThat(IsoInstants.parse(s)).as(s).isEqualTo(Instant.parse(s));
        }
    }

    /** Shapes the fast path does not take: the JDK decides (accepts or names the problem). */
    @ParameterizedTest
    @ValueSource(strings = {"2026-12-02t10:00:00z", "2026-12-02T10:00:00+01:00", "2016-12-31T23:59:60Z",
            "2026-12-02T24:00:00Z", "2026-02-29T10:00:00Z", "2026-13-01T10:00:00Z", "2026-12-02T10:00:00.Z",
            "2026-12-02T10:00:00.1234567890Z", "2026-12-02 10:00:00Z", "+2026-12-02T10:00:00Z", "2026-1a-02T10:00:00Z",
            "2026-12-02T10:00Z", ""})
    void othersGoToTheJdk(String s) {
        assertThat(IsoInstants.parse(s)).isNull();
        Instant jdk;
        try {
            jdk = Instant.parse(s);
        } catch (DateTimeParseException e) {
            jdk = null;
        }
        if (jdk == null) {
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> HeaderValues.instant(java.util.Map.of("t", s), "t")).isInstanceOf(HeaderValues.Mistyped.class);
        } else {
            assertThat(HeaderValues.instant(java.util.Map.of("t", s), "t")).contains(jdk);
        }
    }
}
