package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One task as it travels: identity, type, coordination key and revision, attempt bookkeeping, and the JSON
 * payload bytes. The AMQP form is produced and read by {@link EnvelopeCodec}. Immutable except that the
 * {@code body} array is not copied: treat it as read-only.
 *
 * @param messageId stable across retries and replays
 * @param attempt how many times a handler has started this task (0 when first published)
 * @param lockWaits how many times it went back because its key's lock was busy
 * @param replayCount how many times an operator replayed it from the dead-letter queue
 * @param body the payload as JSON, the user's data only
 * @param lineage its parent and join flag when it is a follow-up ({@link Lineage#NONE} otherwise)
 */
public record TaskEnvelope(
        String messageId,
        String type,
        @Nullable String key,
        @Nullable Long revision,
        int attempt,
        Instant publishedAt,
        @Nullable Instant firstAttemptAt,
        int lockWaits,
        int replayCount,
        byte[] body,
        Lineage lineage) {

    public TaskEnvelope {
        requireNonNull(messageId, "messageId");
        requireNonNull(type, "type");
        requireNonNull(publishedAt, "publishedAt");
        requireNonNull(body, "body");
        requireNonNull(lineage, "lineage");
        if (messageId.isEmpty()) {
            throw new IllegalArgumentException("messageId must not be empty");
        }
        if (type.isEmpty()) {
            throw new IllegalArgumentException("type must not be empty");
        }
        if (attempt < 0 || lockWaits < 0 || replayCount < 0) {
            throw new IllegalArgumentException("attempt, lockWaits and replayCount must be >= 0");
        }
    }

    /** A task that is nobody's follow-up ({@link Lineage#NONE}). */
    public TaskEnvelope(String messageId, String type, @Nullable String key, @Nullable Long revision, int attempt,
            Instant publishedAt, @Nullable Instant firstAttemptAt, int lockWaits, int replayCount, byte[] body) {
        this(messageId, type, key, revision, attempt, publishedAt, firstAttemptAt, lockWaits, replayCount, body,
                Lineage.NONE);
    }

    /** A freshly published task: attempt 0, no first attempt yet. */
    public static TaskEnvelope fresh(String messageId, String type, @Nullable String key, @Nullable Long revision,
            Instant publishedAt, byte[] body) {
        return new TaskEnvelope(messageId, type, key, revision, 0, publishedAt, null, 0, 0, body, Lineage.NONE);
    }

    /** This envelope with {@code lineage} (a follow-up's parent and join flag). */
    public TaskEnvelope withLineage(Lineage lineage) {
        return new TaskEnvelope(messageId, type, key, revision, attempt, publishedAt, firstAttemptAt, lockWaits,
                replayCount, body, lineage);
    }

    public Optional<String> keyValue() {
        return Optional.ofNullable(key);
    }

    public Optional<Long> revisionValue() {
        return Optional.ofNullable(revision);
    }

    public Optional<Instant> firstAttempt() {
        return Optional.ofNullable(firstAttemptAt);
    }
}
