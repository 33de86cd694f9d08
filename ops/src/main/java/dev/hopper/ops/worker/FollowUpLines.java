package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.coordination.FollowUpStore;
import dev.hopper.publisher.Task;
import dev.hopper.topology.Headers;
import dev.hopper.topology.JoinPayload;
import dev.hopper.topology.TaskJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads the follow-ups a command asked for: JSON lines in the file {@code HOPPER_FOLLOW_UPS} names, one object per
 * line, {@code {"queue": Q, "type": T, "key": K (optional), "payload": JSON, "after": "all" (optional)}}; blank
 * lines are skipped; the line with {@code "after": "all"} is the join (at most one; its payload must be a JSON object,
 * the children's results are added to it as {@code results}). The same objects are what a webhook returns
 * ({@link #fromNodes}). And the result a command wrote to {@code HOPPER_RESULT} ({@link #readResult}).
 *
 * <p>All or nothing: any bad line (not JSON, not an object, an unknown field, a missing or mistyped field, an
 * unknown queue, a payload over the limit, a second join, more follow-ups than allowed) throws
 * {@link BadFollowUpException} naming the line, and no follow-up is returned at all, so the parent fails and
 * publishes nothing. Reading is bounded: a line may be at most the payload limit plus {@value #LINE_OVERHEAD}
 * bytes and the file at most {@code maxChildren + 1} such lines. Thread-safe and stateless apart from its rules.
 */
final class FollowUpLines {
    /** Room on a line for everything but the payload: queue, type, key, field names. */
    static final int LINE_OVERHEAD = 4096;
    private static final Set<String> FIELDS = Set.of("queue", "type", "key", "payload", "after");

    private final FollowUpRules rules;
    private final ObjectMapper mapper;

    FollowUpLines(FollowUpRules rules, ObjectMapper mapper) {
        this.rules = requireNonNull(rules, "rules");
        this.mapper = requireNonNull(mapper, "mapper");
    }

    /** A parser with {@link TaskJson}'s mapper, whose string bound admits the largest payload. */
    FollowUpLines(FollowUpRules rules) {
        this(rules, TaskJson.newMapper(rules.maxPayloadBytes() + LINE_OVERHEAD));
    }

    /**
     * The follow-ups in {@code file} (none when it is missing or empty) and the result in {@code resultFile}.
     *
     * @throws BadFollowUpException for any bad line or result, naming it
     */
    FollowUps read(Path file, @Nullable Path resultFile) throws IOException {
        String result = resultFile == null ? null : readResult(resultFile);
        List<Task> children = new ArrayList<>();
        Task join = null;
        int lineCap = rules.maxPayloadBytes() + LINE_OVERHEAD;
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            return new FollowUps(List.of(), null, result);
        }
        try (in) {
            byte[] chunk = new byte[8192];
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int lineNo = 1;
            int n;
            while ((n = in.read(chunk)) >= 0) {
                for (int i = 0; i < n; i++) {
                    if (chunk[i] == '\n') {
                        join = accept(line, lineNo, children, join);
                        line.reset();
                        lineNo++;
                    } else {
                        if (line.size() >= lineCap) {
                            throw bad("HOPPER_FOLLOW_UPS line " + lineNo + " is longer than " + lineCap + " bytes: "
                                    + "its payload is over the limit of " + rules.maxPayloadBytes() + " bytes");
                        }
                        line.write(chunk[i]);
                    }
                }
            }
            join = accept(line, lineNo, children, join);
        }
        return new FollowUps(children, join, result);
    }

    private @Nullable Task accept(ByteArrayOutputStream line, int lineNo, List<Task> children, @Nullable Task join) {
        String text = line.toString(StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            return join;
        }
        String where = "HOPPER_FOLLOW_UPS line " + lineNo;
        JsonNode node;
        try {
            node = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw bad(where + " is not valid JSON: " + TaskJson.describe(e));
        }
        return add(node, where, children, join);
    }

    /**
     * The follow-ups in a webhook's reply: each element of {@code followUps} is one object as on a
     * {@code HOPPER_FOLLOW_UPS} line.
     *
     * @param source how to name the list in errors ("the webhook's followUps")
     * @throws BadFollowUpException for any bad element, naming its index
     */
    FollowUps fromNodes(Iterator<JsonNode> followUps, @Nullable String result, String source) {
        List<Task> children = new ArrayList<>();
        Task join = null;
        int index = 0;
        while (followUps.hasNext()) {
            join = add(followUps.next(), source + "[" + index + "]", children, join);
            index++;
        }
        return new FollowUps(children, join, result);
    }

    private @Nullable Task add(JsonNode node, String where, List<Task> children, @Nullable Task join) {
        if (node == null || !node.isObject()) {
            throw bad(where + " must be a JSON object like {\"queue\":\"Q\",\"type\":\"T\",\"payload\":{}}");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw bad(where + " has an unknown field \"" + Headers.truncate(name, 40) + "\" (allowed: queue, "
                        + "type, key, payload, after)");
            }
        }
        String queue = text(node, "queue", where, true);
        String type = text(node, "type", where, true);
        String key = text(node, "key", where, false);
        String after = text(node, "after", where, false);
        if (!node.has("payload")) {
            throw bad(where + " has no \"payload\" (use null for none)");
        }
        boolean isJoin = after != null;
        if (isJoin && !after.equals("all")) {
            throw bad(where + ": \"after\" must be \"all\" (the join) or absent, not \"" + Headers.truncate(after, 40)
                    + "\"");
        }
        if (!rules.knownQueue().test(queue)) {
            throw bad(where + ": unknown queue '" + Headers.truncate(queue, 200) + "' (known: " + rules.knownQueues()
                    + ")");
        }
        byte[] payload;
        try {
            payload = mapper.writeValueAsBytes(node.get("payload"));
        } catch (JsonProcessingException e) {
            throw bad(where + ": cannot write its payload: " + TaskJson.describe(e));
        }
        int limit = isJoin ? Math.min(rules.maxPayloadBytes(), FollowUpStore.MAX_JOIN_PAYLOAD_BYTES)
                : rules.maxPayloadBytes();
        if (payload.length > limit) {
            throw bad(where + ": payload of " + payload.length + " bytes is over the limit of " + limit + " bytes"
                    + (isJoin ? " for a join" : ""));
        }
        Task task;
        try {
            if (isJoin) {
                JoinPayload.check(payload, mapper);
            }
            task = Task.builder(mapper).queue(queue).type(type).key(key).jsonPayload(payload).build();
        } catch (IllegalArgumentException e) {
            throw bad(where + ": " + e.getMessage());
        }
        if (isJoin) {
            if (join != null) {
                throw bad(where + " is a second join (\"after\":\"all\"); a parent has at most one");
            }
            return task;
        }
        if (children.size() >= rules.maxChildren()) {
            throw bad(where + " is follow-up number " + (children.size() + 1) + ", over the limit of "
                    + rules.maxChildren() + " per parent");
        }
        children.add(task);
        return join;
    }

    private static @Nullable String text(JsonNode node, String field, String where, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw bad(where + " has no \"" + field + "\"");
            }
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw bad(where + ": \"" + field + "\" must be a non-empty string");
        }
        return v.asText();
    }

    /**
     * The result a command wrote to {@code file}: null when the file is missing or blank, else its content, which
     * must be one JSON value of at most {@link FollowUpStore#MAX_RESULT_BYTES} bytes. Reads at most one byte more
     * than that.
     *
     * @throws BadFollowUpException when it is larger or not JSON
     */
    @Nullable String readResult(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(FollowUpStore.MAX_RESULT_BYTES + 1);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (bytes.length > FollowUpStore.MAX_RESULT_BYTES) {
            throw bad("HOPPER_RESULT has more than " + FollowUpStore.MAX_RESULT_BYTES + " bytes (the limit of a "
                    + "result): pass large data by reference (a URL or a key) instead");
        }
        return checkResult(new String(bytes, StandardCharsets.UTF_8), "HOPPER_RESULT");
    }

    /**
     * Checks that {@code text} is one JSON value within the result bound; null when blank.
     *
     * @throws BadFollowUpException naming {@code source}
     */
    @Nullable String checkResult(@Nullable String text, String source) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String json = text.strip();
        if (json.getBytes(StandardCharsets.UTF_8).length > FollowUpStore.MAX_RESULT_BYTES) {
            throw bad(source + " has more than " + FollowUpStore.MAX_RESULT_BYTES + " bytes (the limit of a result)");
        }
        try {
            mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw bad(source + " is not valid JSON: " + TaskJson.describe(e));
        }
        return json;
    }

    private static BadFollowUpException bad(String message) {
        return new BadFollowUpException(message + "; nothing was published");
    }
}
