package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.impl.LongStringHelper;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The unboxed count read answers exactly what the Optional one answers, Mistyped included. */
class HeaderCountTest {

    @Test
    void unboxedCountAgreesWithTheOptionalOne() {
        Object[] values = {null, 0, 5, 5L, HeaderValues.MAX_COUNT, (long) HeaderValues.MAX_COUNT,
            HeaderValues.MAX_COUNT + 1, HeaderValues.MAX_COUNT + 1L, -1, -1L, Long.MAX_VALUE, Integer.MIN_VALUE, "7",
            " 7 ", "x", "-3", 3.5, (short) 2, (byte) 1, LongStringHelper.asLongString("9"), true};
        for (Object v : values) {
            Map<String, Object> h = new HashMap<>();
            if (v != null) {
                h.put("n", v);
            }
            Integer expected;
            try {
                expected = HeaderValues.count(h, "n").orElse(-7);
            } catch (HeaderValues.Mistyped e) {
                expected = null;
            }
            if (expected == null) {
                assertThatThrownBy(() -> HeaderValues.count(h, "n", -7)).as(String.valueOf(v))
                        .isInstanceOf(HeaderValues.Mistyped.class);
            } else {
                assertThat(HeaderValues.count(h, "n", -7)).as(String.valueOf(v)).isEqualTo(expected);
            }
        }
        assertThat(HeaderValues.count(null, "n", 3)).isEqualTo(3);
    }
}
