package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hopper.topology.TaskJson;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TaskTest {

    record Upload(String path, int size) {}

    /** Jackson cannot serialize a bean without properties (FAIL_ON_EMPTY_BEANS). */
    static final class Opaque {}

    /** A getter that throws while being serialized. */
    static final class Exploding {
        public String getValue() {
            throw new IllegalStateException("boom");
        }
    }

    @Test
    void buildsWithSerializedPayloadAndRandomUuid() throws Exception {
        Task t = Task.builder().queue("uploads").type("resize").payload(new Upload("a.png", 3)).key("img:1").build();

        JsonNode json = TaskJson.newMapper().readTree(t.body());
        assertThat(json.get("path").asText()).isEqualTo("a.png");
        assertThat(json.get("size").asInt()).isEqualTo(3);
        assertThat(UUID.fromString(t.messageId())).isNotNull();
        assertThat(t.key()).isEqualTo("img:1");
        assertThat(t.revision()).isNull();
        assertThat(Task.builder().queue("q").type("t").payload(1).build().messageId()).isNotEqualTo(
                Task.builder().queue("q").type("t").payload(1).build().messageId());
    }

    @Test
    void keepsExplicitMessageIdAndRevisionAndRawJson() {
        Task t = Task.builder().queue("q").type("t").jsonPayload("{\"a\": [1, 2]}").key("k").revision(7L)
                .messageId("m-1").build();

        assertThat(t.bodyText()).isEqualTo("{\"a\": [1, 2]}");
        assertThat(t.revision()).isEqualTo(7L);
        assertThat(t.messageId()).isEqualTo("m-1");
        assertThat(t.withRevision(9).revision()).isEqualTo(9L);
        assertThat(t.toString()).doesNotContain("[1, 2]");
    }

    @Test
    void nullAndCollectionsAreValidPayloads() {
        assertThat(Task.builder().queue("q").type("t").payload(null).build().bodyText()).isEqualTo("null");
        assertThat(Task.builder().queue("q").type("t").payload(List.of(Map.of("x", 1))).build().bodyText())
                .isEqualTo("[{\"x\":1}]");
    }

    @Test
    void rejectsMissingOrBlankQueueAndType() {
        assertThatThrownBy(() -> Task.builder().type("t").payload(1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queue must not be empty");
        assertThatThrownBy(() -> Task.builder().queue("  ").type("t").payload(1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queue must not be empty");
        assertThatThrownBy(() -> Task.builder().queue("q").payload(1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("type must not be empty");
        assertThatThrownBy(() -> Task.builder().queue("q").type("").payload(1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("type must not be empty");
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("payload is missing");
    }

    @Test
    void rejectsRetryAndDeadQueuesAndReservedNames() {
        assertThatThrownBy(() -> Task.builder().queue("q.dead").type("t").payload(1).build())
                .hasMessageContaining("retry or dead queue");
        assertThatThrownBy(() -> Task.builder().queue("amq.x").type("t").payload(1).build())
                .hasMessageContaining("reserved");
    }

    @Test
    void rejectsRevisionWithoutKeyAndNegativeRevisionAndEmptyKeyOrId() {
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").payload(1).revision(1L).build())
                .hasMessageContaining("needs a key");
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").payload(1).key("k").revision(-1L).build())
                .hasMessageContaining("revision must be >= 0");
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").payload(1).key("").build())
                .hasMessageContaining("key must not be empty");
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").payload(1).messageId(" ").build())
                .hasMessageContaining("messageId must not be empty");
    }

    @Test
    void unserializablePayloadNamesItsClassAndTheCause() {
        assertThatThrownBy(() -> Task.builder().queue("q").type("resize").payload(new Opaque()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Opaque.class.getName())
                .hasMessageContaining("'resize'")
                .hasMessageContaining("cannot be serialized to JSON")
                .hasMessageContaining("No serializer found");
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").payload(new Exploding()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Exploding.class.getName())
                .hasMessageContaining("boom");
    }

    @Test
    void rawJsonMustParse() {
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").jsonPayload("{\"a\":").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").jsonPayload("{} {}").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").jsonPayload("").build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Task.builder().queue("q").type("t").jsonPayload("{\"a\":1,\"a\":2}").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid JSON");
    }

    @Test
    void aFollowUpTakesTheDerivedIdAndItsParent() {
        Task t = Task.builder().queue("thumbs").type("resize").payload(Map.of("n", 1)).messageId("chosen").build();
        assertThat(t.lineage()).isEqualTo(dev.hopper.topology.Lineage.NONE);
        Task f = t.asFollowUp("derived", dev.hopper.topology.Lineage.joinOf("p-1"));
        assertThat(f.messageId()).isEqualTo("derived");
        assertThat(f.lineage().parentId()).isEqualTo("p-1");
        assertThat(f.lineage().join()).isTrue();
        assertThat(f.body()).isSameAs(t.body());
        assertThat(f.toString()).contains("parent=p-1").contains("join");
        assertThatThrownBy(() -> t.asFollowUp("x", dev.hopper.topology.Lineage.NONE))
                .hasMessageContaining("needs a parent");
    }
}
