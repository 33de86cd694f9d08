package dev.hopper.ops.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.publisher.BatchResult;
import dev.hopper.publisher.PublishException;
import dev.hopper.publisher.PublishReceipt;
import dev.hopper.publisher.Task;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnconfirmedTasksTest {
    private final UnconfirmedTasks file = new UnconfirmedTasks();

    @Test
    void writesExactlyTheFailedTasksAndReadsThemBackWithTheirIds(@TempDir Path dir) throws Exception {
        Task a = Task.builder().queue("uploads").type("thumb").jsonPayload("{\"f\":\"a.png\"}").build();
        Task b = Task.builder().queue("uploads").type("thumb").key("img:1").revision(4L)
                .jsonPayload("{\"f\":\"b.png\", \"n\": [1, 2]}").build();
        Task c = Task.builder().queue("uploads").type("thumb").jsonPayload("\"c\"").build();
        BatchResult result = new BatchResult(
                List.of(new PublishReceipt(a.messageId(), "uploads", null, Instant.now(), null, null)),
                List.of(new BatchResult.Failure(1, b, new PublishException(PublishException.Reason.CONNECTION_LOST,
                                true, "connection lost", null)),
                        new BatchResult.Failure(2, c, new PublishException(PublishException.Reason.CONNECTION_LOST,
                                false, "not sent: the connection is recovering", null))));
        Path out = dir.resolve("left.jsonl");
        file.write(out, result, Arrays.asList(1, 3, 7));

        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("\"line\":3").contains("\"may_have_arrived\":true");
        assertThat(lines.get(1)).contains("\"line\":7").contains("\"may_have_arrived\":false");
        List<Task> back = file.read(out);
        assertThat(back).extracting(Task::messageId).containsExactly(b.messageId(), c.messageId());
        assertThat(back.get(0).key()).isEqualTo("img:1");
        assertThat(back.get(0).revision()).isEqualTo(4L);
        assertThat(back.get(0).queue()).isEqualTo("uploads");
        assertThat(back.get(0).type()).isEqualTo("thumb");
        assertThat(back.get(0).bodyText()).isEqualTo("{\"f\":\"b.png\",\"n\":[1,2]}");
        assertThat(back.get(1).bodyText()).isEqualTo("\"c\"");
        assertThat(dir.toFile().list()).containsExactly("left.jsonl"); // no temporary file left behind
    }

    @Test
    void aLineThatIsNotAnUnconfirmedTaskNamesFileAndLine(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("left.jsonl");
        Files.writeString(in, "\n{\"message_id\":\"m1\",\"queue\":\"q\",\"type\":\"t\",\"payload\":1}\n{\"f\":1}\n");
        assertThatThrownBy(() -> file.read(in)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("left.jsonl line 3").hasMessageContaining("message_id");
        Files.writeString(in, "{not json\n");
        assertThatThrownBy(() -> file.read(in)).hasMessageContaining("line 1");
    }

    @Test
    void delayedAndCoalescedTasksKeepTheirTimingSoAResendIsNeverEarly(@TempDir Path dir) throws Exception {
        Instant at = Instant.parse("2030-01-01T00:00:00Z");
        Task atTime = Task.builder().queue("mail").type("reminder").jsonPayload("1").notBefore(at).build();
        Task delayed = Task.builder().queue("mail").type("reminder").jsonPayload("2")
                .delay(java.time.Duration.ofHours(1)).build();
        Task coalesced = Task.builder().queue("mail").type("digest").key("user:7").jsonPayload("3")
                .coalesce(java.time.Duration.ofSeconds(30), java.time.Duration.ofMinutes(5)).build();
        PublishException lost = new PublishException(PublishException.Reason.CONNECTION_LOST, true, "lost", null);
        BatchResult result = new BatchResult(List.of(), List.of(new BatchResult.Failure(0, atTime, lost),
                new BatchResult.Failure(1, delayed, lost), new BatchResult.Failure(2, coalesced, lost)));
        Path out = dir.resolve("left.jsonl");
        Instant before = Instant.now();
        file.write(out, result, List.of());

        List<Task> back = file.read(out);
        assertThat(back.get(0).notBefore()).isEqualTo(at);
        assertThat(back.get(1).notBefore()).isAfterOrEqualTo(before.plus(java.time.Duration.ofHours(1))
                .truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        assertThat(back.get(2).coalesce()).isEqualTo(coalesced.coalesce());
        assertThat(back.get(2).key()).isEqualTo("user:7");
    }
}
