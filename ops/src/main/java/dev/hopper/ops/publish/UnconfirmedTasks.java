package dev.hopper.ops.publish;

import dev.hopper.topology.CoalesceWindow;
import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hopper.publisher.BatchResult;
import dev.hopper.publisher.Task;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.TaskJson;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The file {@code hopper publish --unconfirmed-to} writes and {@code --resume} reads: one JSON object per line for
 * each task the broker did not confirm, with everything needed to send exactly that task again, under the same
 * message id: {@code {"message_id", "queue", "type", "key"?, "revision"?, "not_before"?, "coalesce"?, "payload",
 * "line"?, "may_have_arrived", "error"}}. A delayed task keeps its time: {@code not_before} is its not-before
 * instant in epoch ms (for a relative delay, counted from when the file is written, so a resend is never early);
 * a coalesced task keeps its window as in {@code x-hopper-coalesce}. A task that may have arrived and is sent again reaches the queue twice with one
 * id; workers that keep done-markers ({@code hopper worker --dedupe}) run it once.
 *
 * <p>Written to a temporary file in the same folder and moved into place, so a crash never leaves half a file and
 * {@code --resume F --unconfirmed-to F} may rewrite the file it reads. Stateless; not thread-confined.
 */
public final class UnconfirmedTasks {
    private final ObjectMapper mapper = TaskJson.newMapper();

    /**
     * Writes the failed tasks of {@code result}.
     *
     * @param sourceLines for each task index, the line of the input file it came from (or null)
     */
    public void write(Path file, BatchResult result, List<Integer> sourceLines) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (BatchResult.Failure f : result.failures()) {
                    Task t = f.task();
                    ObjectNode o = mapper.createObjectNode();
                    o.put("message_id", t.messageId());
                    o.put("queue", t.queue());
                    o.put("type", t.type());
                    if (t.key() != null) {
                        o.put("key", t.key());
                    }
                    if (t.revision() != null) {
                        o.put("revision", t.revision());
                    }
                    if (t.notBefore() != null) {
                        o.put("not_before", t.notBefore().toEpochMilli());
                    } else if (t.delay() != null) {
                        o.put("not_before", Instant.now().plus(t.delay()).toEpochMilli());
                    }
                    if (t.coalesce() != null) {
                        o.put("coalesce", t.coalesce().headerValue());
                    }
                    o.set("payload", mapper.readTree(t.body()));
                    if (f.index() < sourceLines.size() && sourceLines.get(f.index()) != null) {
                        o.put("line", sourceLines.get(f.index()));
                    }
                    o.put("may_have_arrived", f.error().mayHaveArrived());
                    o.put("error", String.valueOf(f.error().getMessage()));
                    w.write(mapper.writeValueAsString(o));
                    w.write('\n');
                }
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Reads a file written by {@link #write}: the tasks to send again, each with its original message id.
     *
     * @throws IllegalArgumentException naming the file and line when a line is not such an object
     */
    public List<Task> read(Path file) throws IOException {
        List<Task> tasks = new ArrayList<>();
        NumberedLines.read(file, (number, line) -> {
            try {
                tasks.add(task(mapper.readTree(line)));
            } catch (IOException | IllegalArgumentException e) {
                String why = e instanceof IOException io ? TaskJson.describe(io) : e.getMessage();
                throw new IllegalArgumentException(file + " line " + number + ": not a task written by "
                        + "--unconfirmed-to (" + why + "); nothing was published", e);
            }
        });
        return tasks;
    }

    private Task task(JsonNode o) throws IOException {
        if (!o.isObject()) {
            throw new IllegalArgumentException("a JSON object is expected");
        }
        String id = text(o, "message_id");
        String queue = QueueNames.checkWorkQueue(text(o, "queue"));
        String type = text(o, "type");
        JsonNode payload = o.get("payload");
        if (payload == null) {
            throw new IllegalArgumentException("\"payload\" is missing");
        }
        JsonNode key = o.get("key");
        JsonNode revision = o.get("revision");
        if (revision != null && !revision.isNull() && !revision.canConvertToLong()) {
            throw new IllegalArgumentException("\"revision\" must be a whole number");
        }
        JsonNode notBefore = o.get("not_before");
        if (notBefore != null && !notBefore.isNull() && !notBefore.canConvertToLong()) {
            throw new IllegalArgumentException("\"not_before\" must be epoch milliseconds");
        }
        JsonNode coalesce = o.get("coalesce");
        Task.Builder b = Task.builder().queue(queue).type(type).messageId(id)
                .key(key == null || key.isNull() ? null : key.asText())
                .revision(revision == null || revision.isNull() ? null : revision.asLong())
                .jsonPayload(mapper.writeValueAsBytes(payload));
        if (notBefore != null && !notBefore.isNull()) {
            b.notBefore(Instant.ofEpochMilli(notBefore.asLong()));
        }
        if (coalesce != null && !coalesce.isNull()) {
            CoalesceWindow w = CoalesceWindow.parseHeader(coalesce.asText());
            b.coalesce(w.debounce(), w.maxDelay());
        }
        return b.build();
    }

    private static String text(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || !n.isTextual() || n.asText().isBlank()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a non-empty string");
        }
        return n.asText();
    }
}
