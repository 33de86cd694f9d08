package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.topology.Lineage;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.TaskJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * One task to publish: where it goes ({@code queue}), what it is ({@code type}), its JSON payload, and optionally
 * the entity {@code key} and {@code revision} it was published against. Immutable except that the {@code body}
 * array is not copied: treat it as read-only. The payload is serialized when the task is built, so a payload that
 * cannot become JSON fails at {@link Builder#build()}, not later on a publisher thread.
 *
 * @param queue the work queue (routing key on {@code hopper.tasks})
 * @param type the task type the worker's registry maps to a handler
 * @param body the payload as JSON bytes (UTF-8)
 * @param key entity key for lock + revision, or null
 * @param revision the key's revision the task was published against; null lets {@link TaskPublisher} stamp the
 *     key's current revision from its revision store
 * @param messageId stable across retries and replays; a random UUID unless given
 * @param lineage the parent and join flag of a follow-up ({@link Lineage#NONE} for a producer's task); set by the
 *     worker that publishes a handler's follow-ups ({@link #asFollowUp}), never by the builder
 */
public record Task(String queue, String type, byte[] body, @Nullable String key, @Nullable Long revision,
        String messageId, Lineage lineage) {

    public Task {
        requireNonNull(queue, "queue");
        requireNonNull(type, "type");
        requireNonNull(body, "body");
        requireNonNull(messageId, "messageId");
        requireNonNull(lineage, "lineage");
        QueueNames.checkWorkQueue(queue);
        if (type.isBlank()) {
            throw new IllegalArgumentException("task type must not be empty (queue '" + queue + "')");
        }
        if (type.length() > 255) {
            throw new IllegalArgumentException("task type must be at most 255 characters (queue '" + queue + "')");
        }
        if (messageId.isBlank()) {
            throw new IllegalArgumentException("task messageId must not be empty (queue '" + queue + "')");
        }
        if (key != null && key.isEmpty()) {
            throw new IllegalArgumentException("task key must not be empty when given (queue '" + queue + "'); "
                    + "leave it unset for a task without a key");
        }
        if (revision != null && revision < 0) {
            throw new IllegalArgumentException("task revision must be >= 0, was " + revision);
        }
        if (revision != null && key == null) {
            throw new IllegalArgumentException("a task with a revision needs a key (queue '" + queue + "')");
        }
    }

    /** The payload as JSON text. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** This task with {@code revision} set (used when the publisher stamps the key's current revision). */
    public Task withRevision(long revision) {
        return new Task(queue, type, body, key, revision, messageId, lineage);
    }

    /**
     * This task as a follow-up: its message id replaced by the deterministic one the worker derived
     * ({@link dev.hopper.topology.FollowUpIds}) and the parent (and join flag) set. Whatever message id the handler
     * gave is dropped: a follow-up's id must be the same each time its parent runs.
     */
    public Task asFollowUp(String followUpId, Lineage lineage) {
        requireNonNull(lineage, "lineage");
        if (!lineage.hasParent()) {
            throw new IllegalArgumentException("a follow-up's lineage needs a parent");
        }
        return new Task(queue, type, body, key, revision, followUpId, lineage);
    }

    @Override
    public String toString() {
        // Never the payload: it is the user's data and may be large or sensitive.
        return "Task[queue=" + queue + ", type=" + type + ", messageId=" + messageId + ", key=" + key
                + ", revision=" + revision + (lineage.hasParent() ? ", parent=" + lineage.parentId() : "")
                + (lineage.join() ? ", join" : "") + ", bytes=" + body.length + "]";
    }

    /** A builder that serializes payloads with {@link TaskJson#newMapper()}. */
    public static Builder builder() {
        return new Builder(DefaultMapper.INSTANCE);
    }

    /** A builder that serializes payloads with {@code mapper} (see {@link TaskPublisher#newTask()}). */
    public static Builder builder(ObjectMapper mapper) {
        return new Builder(requireNonNull(mapper, "mapper"));
    }

    /** Holds the default mapper, created on first use; an ObjectMapper is thread-safe once configured. */
    private static final class DefaultMapper {
        static final ObjectMapper INSTANCE = TaskJson.newMapper();
    }

    /** Builds a {@link Task}. Not thread-safe. */
    public static final class Builder {
        private final ObjectMapper mapper;
        private @Nullable String queue;
        private @Nullable String type;
        private @Nullable Object payload;
        private byte @Nullable [] rawJson;
        private boolean payloadSet;
        private @Nullable String key;
        private @Nullable Long revision;
        private @Nullable String messageId;

        private Builder(ObjectMapper mapper) {
            this.mapper = mapper;
        }

        public Builder queue(String queue) {
            this.queue = requireNonNull(queue, "queue");
            return this;
        }

        public Builder type(String type) {
            this.type = requireNonNull(type, "type");
            return this;
        }

        /** Any Jackson-serializable object; it is serialized by {@link #build()}. {@code null} becomes JSON null. */
        public Builder payload(@Nullable Object payload) {
            this.payload = payload;
            this.rawJson = null;
            this.payloadSet = true;
            return this;
        }

        /** A payload that already is JSON text; {@link #build()} checks that it parses. */
        public Builder jsonPayload(String json) {
            return jsonPayload(requireNonNull(json, "json").getBytes(StandardCharsets.UTF_8));
        }

        /** A payload that already is JSON (UTF-8 bytes, not copied); {@link #build()} checks that it parses. */
        public Builder jsonPayload(byte[] json) {
            this.rawJson = requireNonNull(json, "json");
            this.payload = null;
            this.payloadSet = true;
            return this;
        }

        public Builder key(@Nullable String key) {
            this.key = key;
            return this;
        }

        /** An explicit revision; without one, a keyed task gets its key's current revision when published. */
        public Builder revision(@Nullable Long revision) {
            this.revision = revision;
            return this;
        }

        public Builder messageId(@Nullable String messageId) {
            this.messageId = messageId;
            return this;
        }

        /**
         * Validates and serializes.
         *
         * @throws IllegalArgumentException naming the field that is missing or wrong, or the payload's type and
         *     why it cannot be serialized, or why raw JSON does not parse
         */
        public Task build() {
            if (queue == null || queue.isBlank()) {
                throw new IllegalArgumentException("task queue must not be empty: set queue(...)");
            }
            if (type == null || type.isBlank()) {
                throw new IllegalArgumentException("task type must not be empty (queue '" + queue + "'): set type(...)");
            }
            if (!payloadSet) {
                throw new IllegalArgumentException("task payload is missing (queue '" + queue + "', type '" + type
                        + "'): set payload(...) or jsonPayload(...)");
            }
            String id = messageId == null ? UUID.randomUUID().toString() : messageId;
            return new Task(queue, type, body(), key, revision, id, Lineage.NONE);
        }

        private byte[] body() {
            byte[] raw = rawJson;
            if (raw != null) {
                try {
                    mapper.readTree(raw);
                } catch (IOException e) {
                    throw new IllegalArgumentException("task payload for type '" + type + "' is not valid JSON: "
                            + firstLine(e), e);
                }
                if (raw.length == 0) {
                    throw new IllegalArgumentException("task payload for type '" + type + "' is empty; "
                            + "use \"null\" or \"{}\" for no data");
                }
                return raw;
            }
            try {
                return mapper.writeValueAsBytes(payload);
            } catch (JsonProcessingException | RuntimeException e) {
                String cls = payload == null ? "null" : payload.getClass().getName();
                throw new IllegalArgumentException("task payload of class " + cls + " for type '" + type
                        + "' cannot be serialized to JSON: " + firstLine(e), e);
            }
        }

        private static String firstLine(Exception e) {
            return e instanceof IOException io ? TaskJson.describe(io) : String.valueOf(e.getMessage());
        }
    }
}
