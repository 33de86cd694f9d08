package dev.hopper.topology;

import com.rabbitmq.client.AMQP;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Turns a {@link TaskEnvelope} into AMQP properties and back. Decoding never throws for bad input: it returns
 * {@link Malformed} with a reason a human can act on. Thread-safe and stateless.
 */
public final class EnvelopeCodec {
    public static final String CONTENT_TYPE = "application/json";
    public static final String APP_ID = "hopper";

    /** What decoding a delivery gave. */
    public sealed interface Decoded permits Valid, Malformed {}

    /**
     * A readable task.
     *
     * @param schedule its not-before, coalescing and hop headers ({@link TaskSchedule#NONE} when it has none)
     */
    public record Valid(TaskEnvelope envelope, TaskSchedule schedule) implements Decoded {
        public Valid {
            java.util.Objects.requireNonNull(envelope, "envelope");
            java.util.Objects.requireNonNull(schedule, "schedule");
        }
    }

    /**
     * An unreadable one: it can never succeed and goes to the dead-letter queue as {@code malformed}.
     *
     * @param reason why, naming the header or the body's problem
     * @param messageId the message id if one could be read, for logs
     * @param type the type if one could be read, for logs and metrics
     */
    public record Malformed(String reason, @Nullable String messageId, @Nullable String type) implements Decoded {}

    private final int maxBodyBytes;

    /** @param maxBodyBytes bodies above this size are {@link Malformed} without being looked at */
    public EnvelopeCodec(int maxBodyBytes) {
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be >= 1");
        }
        this.maxBodyBytes = maxBodyBytes;
    }

    /**
     * The AMQP properties for a task: persistent, JSON, {@code app_id=hopper}, message id, type, timestamp and
     * the {@code x-hopper-*} headers.
     */
    public static AMQP.BasicProperties properties(TaskEnvelope e) {
        return properties(e, TaskSchedule.NONE);
    }

    /** {@link #properties(TaskEnvelope)} plus the headers of {@code schedule} (not-before, coalesce, hops). */
    public static AMQP.BasicProperties properties(TaskEnvelope e, TaskSchedule schedule) {
        Map<String, Object> h = new LinkedHashMap<>();
        if (e.key() != null) {
            h.put(Headers.KEY, e.key());
        }
        if (e.revision() != null) {
            h.put(Headers.REVISION, e.revision());
        }
        h.put(Headers.ATTEMPT, e.attempt());
        // ISO-8601 on purpose (rolling upgrades, see IsoInstants); formatted without java.time's formatter.
        h.put(Headers.PUBLISHED_AT, IsoInstants.format(e.publishedAt()));
        if (e.firstAttemptAt() != null) {
            h.put(Headers.FIRST_ATTEMPT_AT, IsoInstants.format(e.firstAttemptAt()));
        }
        if (e.lockWaits() > 0) {
            h.put(Headers.LOCK_WAITS, e.lockWaits());
        }
        if (e.replayCount() > 0) {
            h.put(Headers.REPLAY_COUNT, e.replayCount());
        }
        if (!schedule.isNone()) { // most tasks: skip building and walking an empty map
            schedule.headers().forEach((name, value) -> {
                if (value != null) {
                    h.put(name, value);
                }
            });
        }
        if (!e.lineage().equals(Lineage.NONE)) {
            h.putAll(e.lineage().headers());
        }
        return new AMQP.BasicProperties.Builder()
                .contentType(CONTENT_TYPE)
                .deliveryMode(2)
                .messageId(e.messageId())
                .type(e.type())
                .timestamp(Date.from(e.publishedAt()))
                .appId(APP_ID)
                .headers(h)
                .build();
    }

    /**
     * Reads a delivery. Checks the body's size first, then the properties and the control headers
     * ({@code attempt}, {@code revision}, {@code key}, timestamps, the {@link Lineage} headers parent and join, and
     * the schedule headers read by {@link TaskSchedule#read}); a present-but-mistyped control header makes the message
     * {@link Malformed}, and so does a coalesce header without a key. Whether the body is valid JSON for the handler's payload type is decided by
     * the worker, which knows the type.
     */
    public Decoded decode(AMQP.@Nullable BasicProperties props, byte @Nullable [] body) {
        String messageId = props == null ? null : props.getMessageId();
        String type = props == null ? null : props.getType();
        if (body == null || body.length == 0) {
            return new Malformed("empty body", messageId, type);
        }
        if (body.length > maxBodyBytes) {
            return new Malformed("body of " + body.length + " bytes exceeds the limit of " + maxBodyBytes, messageId,
                    type);
        }
        if (props == null) {
            return new Malformed("no message properties", null, null);
        }
        if (messageId == null || messageId.isBlank()) {
            return new Malformed("no message_id property", null, type);
        }
        if (type == null || type.isBlank()) {
            return new Malformed("no type property", messageId, null);
        }
        if (type.length() > 255) {
            return new Malformed("type property longer than 255 characters", messageId, null);
        }
        Map<String, Object> h = props.getHeaders();
        try {
            String key = HeaderValues.strictText(h, Headers.KEY).orElse(null);
            if (key != null && key.isEmpty()) {
                key = null;
            }
            Long revision = HeaderValues.whole(h, Headers.REVISION).orElse(null);
            int attempt = HeaderValues.count(h, Headers.ATTEMPT, 0);
            int lockWaits = HeaderValues.count(h, Headers.LOCK_WAITS, 0);
            int replays = HeaderValues.count(h, Headers.REPLAY_COUNT, 0);
            Instant publishedAt = HeaderValues.instant(h, Headers.PUBLISHED_AT)
                    .or(() -> Optional.ofNullable(props.getTimestamp()).map(Date::toInstant))
                    .orElse(Instant.EPOCH);
            Instant firstAttempt = HeaderValues.instant(h, Headers.FIRST_ATTEMPT_AT).orElse(null);
            Lineage lineage = Lineage.read(h);
            TaskSchedule schedule = TaskSchedule.read(h);
            if (schedule.coalesce() != null && key == null) {
                return new Malformed("header " + Headers.COALESCE + " needs a " + Headers.KEY
                        + " (runs are coalesced per key)", messageId, type);
            }
            return new Valid(new TaskEnvelope(messageId, type, key, revision, attempt, publishedAt, firstAttempt,
                    lockWaits, replays, body, lineage), schedule);
        } catch (HeaderValues.Mistyped e) {
            return new Malformed(e.getMessage(), messageId, type);
        }
    }

    /**
     * Properties for a republished copy (retry, dead letter, replay): a new object whose headers are the
     * original's minus the broker-owned ones ({@code x-death} and friends, see {@link Headers#isBrokerOwned}),
     * with {@code changes} applied; a null value in {@code changes} removes that header. The original is never
     * modified.
     */
    public static AMQP.BasicProperties republished(AMQP.BasicProperties original, Map<String, @Nullable Object> changes) {
        Map<String, Object> headers = original.getHeaders() == null
                ? new LinkedHashMap<>()
                : Headers.withoutBrokerHeaders(original.getHeaders());
        changes.forEach((k, v) -> {
            if (v == null) {
                headers.remove(k);
            } else {
                headers.put(k, v);
            }
        });
        return original.builder().deliveryMode(2).headers(headers).build();
    }
}
