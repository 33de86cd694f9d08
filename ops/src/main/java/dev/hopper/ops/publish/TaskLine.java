package dev.hopper.ops.publish;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hopper.topology.DurationText;
import dev.hopper.topology.TaskJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One line of a {@code hopper publish --file}: either a bare payload, or a task line that wraps the payload and says
 * more about its task. A task line is a JSON object that has a {@code payload} member and no members besides
 * {@code payload}, {@code key}, {@code delay} and {@code not_before}:
 *
 * <pre>{@code
 * {"payload": {"user": 7}, "key": "user:7", "delay": "30s"}
 * {"payload": {"user": 8}, "not_before": "2026-12-24T18:00:00Z"}
 * {"payload": {"user": 9}, "not_before": 1798135200000}
 * }</pre>
 *
 * {@code delay} is a duration ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 1d}); {@code not_before}
 * an ISO-8601 instant with a zone or epoch milliseconds; at most one of the two. {@code key} replaces
 * {@code --key} for that line. Any other line is a payload as it is; a payload that itself looks like a task line is
 * published by wrapping it: {@code {"payload": <it>}}. Immutable.
 *
 * @param payload the payload's JSON (UTF-8)
 * @param key the line's own key, or null for the command's
 * @param delay the line's delay, or null
 * @param notBefore the line's not-before time, or null
 */
record TaskLine(byte[] payload, @Nullable String key, @Nullable Duration delay, @Nullable Instant notBefore) {
    private static final Set<String> MEMBERS = Set.of("payload", "key", "delay", "not_before");
    private static final ObjectMapper JSON = TaskJson.newMapper();

    TaskLine {
        requireNonNull(payload, "payload");
    }

    /**
     * Reads one non-blank line.
     *
     * @throws IllegalArgumentException saying what is wrong with a task line's members (the payload itself is
     *     checked when the task is built)
     */
    static TaskLine parse(String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (IOException e) {
            // Not JSON: the task builder reports it as an invalid payload.
            return bare(line);
        }
        if (!(node instanceof ObjectNode object) || !object.has("payload") || !onlyTaskMembers(object)) {
            return bare(line);
        }
        byte[] payload = object.get("payload").toString().getBytes(StandardCharsets.UTF_8);
        String key = null;
        JsonNode k = object.get("key");
        if (k != null && !k.isNull()) {
            if (!k.isTextual() || k.asText().isEmpty()) {
                throw new IllegalArgumentException("\"key\" must be a non-empty string, was " + k);
            }
            key = k.asText();
        }
        Duration delay = null;
        JsonNode d = object.get("delay");
        if (d != null && !d.isNull()) {
            if (!d.isTextual()) {
                throw new IllegalArgumentException("\"delay\" must be a duration like \"30s\", was " + d);
            }
            delay = DurationText.parse(d.asText());
        }
        Instant notBefore = null;
        JsonNode n = object.get("not_before");
        if (n != null && !n.isNull()) {
            notBefore = instant(n);
        }
        if (delay != null && notBefore != null) {
            throw new IllegalArgumentException("give \"delay\" or \"not_before\", not both");
        }
        return new TaskLine(payload, key, delay, notBefore);
    }

    private static TaskLine bare(String line) {
        return new TaskLine(line.getBytes(StandardCharsets.UTF_8), null, null, null);
    }

    private static boolean onlyTaskMembers(ObjectNode object) {
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            if (!MEMBERS.contains(names.next())) {
                return false;
            }
        }
        return true;
    }

    private static Instant instant(JsonNode n) {
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            long ms = n.asLong();
            if (ms < 0) {
                throw new IllegalArgumentException("\"not_before\" must be epoch milliseconds >= 0, was " + ms);
            }
            return Instant.ofEpochMilli(ms);
        }
        if (n.isTextual()) {
            try {
                return OffsetDateTime.parse(n.asText().trim()).toInstant();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("\"not_before\" must be an instant like 2026-12-24T18:00:00Z or "
                        + "epoch milliseconds, was \"" + n.asText() + "\"");
            }
        }
        throw new IllegalArgumentException("\"not_before\" must be an instant like 2026-12-24T18:00:00Z or epoch "
                + "milliseconds, was " + n);
    }
}
