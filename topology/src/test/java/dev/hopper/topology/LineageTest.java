package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.impl.LongStringHelper;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LineageTest {

    static List<Arguments> readable() {
        return List.of(
                Arguments.of("no headers at all", null, Lineage.NONE),
                Arguments.of("no lineage headers", Map.of(Headers.ATTEMPT, 1), Lineage.NONE),
                Arguments.of("child as the broker delivers it",
                        Map.of(Headers.PARENT, LongStringHelper.asLongString("p-1")), Lineage.childOf("p-1")),
                Arguments.of("join with a boolean", Map.of(Headers.PARENT, "p-1", Headers.JOIN, true),
                        Lineage.joinOf("p-1")),
                Arguments.of("join written as text", Map.of(Headers.PARENT, "p-1", Headers.JOIN,
                        LongStringHelper.asLongString("TRUE")), Lineage.joinOf("p-1")),
                Arguments.of("join flag false is no join", Map.of(Headers.PARENT, "p-1", Headers.JOIN, false),
                        Lineage.childOf("p-1")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readable")
    void readsWhatPublishersWrite(String name, Map<String, Object> headers, Lineage expected) {
        assertThat(Lineage.read(headers)).isEqualTo(expected);
    }

    static List<Arguments> mistyped() {
        return List.of(
                Arguments.of("parent as bytes", Map.of(Headers.PARENT, new byte[] {1}), Headers.PARENT),
                Arguments.of("blank parent", Map.of(Headers.PARENT, " "), Headers.PARENT),
                Arguments.of("parent too long", Map.of(Headers.PARENT, "p".repeat(256)), Headers.PARENT),
                Arguments.of("join flag gibberish", Map.of(Headers.PARENT, "p", Headers.JOIN, "yes"), Headers.JOIN),
                Arguments.of("join without parent", Map.of(Headers.JOIN, true), Headers.JOIN));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mistyped")
    void mistypedHeadersNameTheHeader(String name, Map<String, Object> headers, String header) {
        assertThatThrownBy(() -> Lineage.read(headers)).isInstanceOfSatisfying(HeaderValues.Mistyped.class,
                e -> assertThat(e.header()).isEqualTo(header));
    }

    @Test
    void headersRoundTrip() {
        for (Lineage l : List.of(Lineage.NONE, Lineage.childOf("a"), Lineage.joinOf("b"))) {
            assertThat(Lineage.read(new HashMap<>(l.headers()))).isEqualTo(l);
        }
        assertThat(Lineage.NONE.headers()).isEmpty();
        assertThat(Lineage.joinOf("b").headers()).containsOnly(Map.entry(Headers.PARENT, "b"),
                Map.entry(Headers.JOIN, true));
    }

    @Test
    void aJoinNeedsAParent() {
        assertThatThrownBy(() -> new Lineage(null, true)).hasMessageContaining("a join needs a parent");
    }
}
