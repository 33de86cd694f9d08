package dev.hopper.ops.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.publisher.Task;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FollowUpLinesTest {
    private static final FollowUpRules RULES = new FollowUpRules(Set.of("thumbs", "reports")::contains,
            "reports, thumbs", 3, 100);
    private final FollowUpLines lines = new FollowUpLines(RULES);
    @TempDir
    Path dir;

    private FollowUps read(String content) throws Exception {
        Path f = dir.resolve("follow-ups.jsonl");
        Files.writeString(f, content);
        return lines.read(f, null);
    }

    @Test
    void readsChildrenInOrderAndTheJoin() throws Exception {
        FollowUps f = read("""
                {"queue":"thumbs","type":"resize","payload":{"page":1}}

                {"queue":"reports","type":"merge","key":"doc:7","payload":{"doc":7},"after":"all"}
                {"queue":"thumbs","type":"resize","key":"img:2","payload":[2]}
                """);

        assertThat(f.children()).extracting(Task::queue, Task::type, Task::key, Task::bodyText).containsExactly(
                org.assertj.core.groups.Tuple.tuple("thumbs", "resize", null, "{\"page\":1}"),
                org.assertj.core.groups.Tuple.tuple("thumbs", "resize", "img:2", "[2]"));
        assertThat(f.join()).isNotNull();
        assertThat(f.join().queue()).isEqualTo("reports");
        assertThat(f.join().key()).isEqualTo("doc:7");
        assertThat(f.join().bodyText()).isEqualTo("{\"doc\":7}");
        assertThat(f.result()).isNull();
    }

    @Test
    void aMissingOrEmptyFileAsksForNothing() throws Exception {
        assertThat(lines.read(dir.resolve("never-written"), null).isEmpty()).isTrue();
        assertThat(read("").isEmpty()).isTrue();
        assertThat(read("\n  \n").isEmpty()).isTrue();
    }

    @Test
    void aLastLineWithoutNewlineCounts() throws Exception {
        assertThat(read("{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":null}").children()).hasSize(1);
    }

    static Stream<Arguments> badLines() {
        String ok = "{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":1}\n";
        return Stream.of(
                Arguments.of("invalid JSON", ok + "{\"queue\":\"thumbs\",", "line 2 is not valid JSON"),
                Arguments.of("not an object", "[1,2]", "line 1 must be a JSON object"),
                Arguments.of("unknown queue", ok + "{\"queue\":\"nope\",\"type\":\"t\",\"payload\":1}",
                        "line 2: unknown queue 'nope' (known: reports, thumbs)"),
                Arguments.of("oversized payload", "{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":\"" + "x".repeat(200)
                        + "\"}", "line 1: payload of 202 bytes is over the limit of 100 bytes"),
                Arguments.of("line over the cap", "{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":\""
                        + "x".repeat(5000) + "\"}", "line 1 is longer than 4196 bytes"),
                Arguments.of("missing type", "{\"queue\":\"thumbs\",\"payload\":1}", "line 1 has no \"type\""),
                Arguments.of("missing payload", "{\"queue\":\"thumbs\",\"type\":\"t\"}", "line 1 has no \"payload\""),
                Arguments.of("numeric key", "{\"queue\":\"thumbs\",\"type\":\"t\",\"key\":5,\"payload\":1}",
                        "\"key\" must be a non-empty string"),
                Arguments.of("unknown field", "{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":1,\"delay\":\"5s\"}",
                        "unknown field \"delay\""),
                Arguments.of("after other than all", "{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":{},"
                        + "\"after\":\"some\"}", "\"after\" must be \"all\""),
                Arguments.of("two joins", "{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":{},\"after\":\"all\"}\n"
                        + "{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":{},\"after\":\"all\"}",
                        "line 2 is a second join"),
                Arguments.of("join payload not an object", "{\"queue\":\"thumbs\",\"type\":\"t\",\"payload\":[1],"
                        + "\"after\":\"all\"}", "a join's payload must be a JSON object"),
                Arguments.of("too many", ok + ok + ok + ok, "line 4 is follow-up number 4, over the limit of 3"),
                Arguments.of("a dead queue", "{\"queue\":\"thumbs.dead\",\"type\":\"t\",\"payload\":1}",
                        "unknown queue 'thumbs.dead'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badLines")
    void aBadLineFailsTheWholeFileNamingTheLine(String name, String content, String message) {
        assertThatThrownBy(() -> read(content)).isInstanceOf(BadFollowUpException.class)
                .hasMessageContaining("HOPPER_FOLLOW_UPS").hasMessageContaining(message)
                .hasMessageEndingWith("nothing was published");
    }

    @Test
    void theResultFileIsReadBoundedAndMustBeJson() throws Exception {
        Path result = dir.resolve("result.json");
        assertThat(lines.read(dir.resolve("none"), result).result()).as("missing").isNull();
        Files.writeString(result, "  {\"pages\": 12}\n");
        assertThat(lines.read(dir.resolve("none"), result).result()).isEqualTo("{\"pages\": 12}");

        Files.writeString(result, "{\"pages\":");
        assertThatThrownBy(() -> lines.read(dir.resolve("none"), result)).isInstanceOf(BadFollowUpException.class)
                .hasMessageContaining("HOPPER_RESULT is not valid JSON");

        Files.write(result, ("\"" + "r".repeat(70_000) + "\"").getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> lines.read(dir.resolve("none"), result)).isInstanceOf(BadFollowUpException.class)
                .hasMessageContaining("HOPPER_RESULT has more than 65536 bytes");
    }

    @Test
    void webhookRepliesCarryTheSameObjects() {
        byte[] body = """
                {"hopper": {"result": {"pages": 12}, "followUps": [
                  {"queue": "thumbs", "type": "resize", "payload": {"page": 1}},
                  {"queue": "reports", "type": "merge", "payload": {}, "after": "all"}]}}
                """.getBytes(StandardCharsets.UTF_8);
        FollowUps f = WebhookReply.parse(body, "application/json; charset=utf-8", lines,
                dev.hopper.topology.TaskJson.newMapper());
        assertThat(f.children()).hasSize(1);
        assertThat(f.join().type()).isEqualTo("merge");
        assertThat(f.result()).isEqualTo("{\"pages\":12}");
    }

    @Test
    void webhookRepliesWithoutTheFieldAskForNothing() {
        var mapper = dev.hopper.topology.TaskJson.newMapper();
        for (String reply : List.of("{\"ok\":true}", "not json", "[1]", "")) {
            assertThat(WebhookReply.parse(reply.getBytes(StandardCharsets.UTF_8), "application/json", lines, mapper)
                    .isEmpty()).as(reply).isTrue();
        }
        assertThat(WebhookReply.parse("{\"hopper\":{\"followUps\":[{}]}}".getBytes(StandardCharsets.UTF_8),
                "text/plain", lines, mapper).isEmpty()).as("not JSON by its content type").isTrue();
    }

    @Test
    void aMalformedWebhookFieldFailsNamingIt() {
        var mapper = dev.hopper.topology.TaskJson.newMapper();
        assertThatThrownBy(() -> WebhookReply.parse(("{\"hopper\":{\"followUps\":[{\"queue\":\"x\",\"type\":\"t\","
                + "\"payload\":1}]}}").getBytes(StandardCharsets.UTF_8), "application/json", lines, mapper))
                .isInstanceOf(BadFollowUpException.class)
                .hasMessageContaining("the webhook's followUps[0]: unknown queue 'x'");
        assertThatThrownBy(() -> WebhookReply.parse("{\"hopper\":{\"followups\":[]}}".getBytes(StandardCharsets.UTF_8),
                "application/json", lines, mapper)).hasMessageContaining("unknown field \"followups\"");
        assertThatThrownBy(() -> WebhookReply.parse("{\"hopper\":[]}".getBytes(StandardCharsets.UTF_8),
                "application/problem+json", lines, mapper)).hasMessageContaining("must be an object");
    }
}
