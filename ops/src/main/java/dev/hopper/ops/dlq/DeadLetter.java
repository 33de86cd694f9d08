package dev.hopper.ops.dlq;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One message of a dead queue as Hopper reads it: its AMQP properties and body, and the {@code x-hopper-*}
 * headers that say why it died, read defensively (a missing or mistyped header is absent, never an error).
 * Immutable except that {@code body} is not copied: treat it as read-only.
 *
 * @param messageId the {@code message_id} property, or empty when the producer set none
 * @param type the {@code type} property, or empty
 * @param reason {@code x-hopper-dead-reason}, or null
 * @param errorClass {@code x-hopper-error-class}, or null
 * @param errorMessage {@code x-hopper-error-message}, or null
 * @param topFrame the first {@code at ...} line of {@code x-hopper-error-stack}, trimmed, or null
 * @param failedAt {@code x-hopper-failed-at}, else the {@code timestamp} property, else null
 * @param attempt {@code x-hopper-attempt}, 0 when absent or unreadable
 * @param originQueue {@code x-hopper-origin-queue}, or null
 */
public record DeadLetter(
        String messageId,
        String type,
        @Nullable String reason,
        @Nullable String errorClass,
        @Nullable String errorMessage,
        @Nullable String topFrame,
        @Nullable Instant failedAt,
        int attempt,
        @Nullable String originQueue,
        AMQP.BasicProperties properties,
        byte[] body) {

    public DeadLetter {
        requireNonNull(messageId, "messageId");
        requireNonNull(type, "type");
        requireNonNull(properties, "properties");
        requireNonNull(body, "body");
    }

    /** Reads a delivered dead letter; never throws for bad headers. */
    public static DeadLetter of(AMQP.BasicProperties props, byte @Nullable [] body) {
        Map<String, Object> h = props.getHeaders();
        String stack = HeaderValues.display(h, Headers.ERROR_STACK).orElse(null);
        return new DeadLetter(
                props.getMessageId() == null ? "" : props.getMessageId(),
                props.getType() == null ? "" : props.getType(),
                HeaderValues.display(h, Headers.DEAD_REASON).orElse(null),
                HeaderValues.display(h, Headers.ERROR_CLASS).orElse(null),
                HeaderValues.display(h, Headers.ERROR_MESSAGE).orElse(null),
                stack == null ? null : topFrame(stack),
                failedAt(props),
                attempt(h),
                HeaderValues.display(h, Headers.ORIGIN_QUEUE).filter(s -> !s.isBlank()).orElse(null),
                props,
                body == null ? new byte[0] : body);
    }

    /** The first line of a Java stack trace that starts with {@code at } (after indentation), trimmed. */
    static @Nullable String topFrame(String stack) {
        for (String line : stack.split("\\R")) {
            String t = line.trim();
            if (t.startsWith("at ")) {
                return t;
            }
        }
        return null;
    }

    private static @Nullable Instant failedAt(AMQP.BasicProperties props) {
        try {
            Optional<Instant> header = HeaderValues.instant(props.getHeaders(), Headers.FAILED_AT);
            if (header.isPresent()) {
                return header.get();
            }
        } catch (HeaderValues.Mistyped e) {
            // A garbled failed-at is treated as absent; the timestamp property is the next best date.
        }
        Date ts = props.getTimestamp();
        return ts == null ? null : ts.toInstant();
    }

    private static int attempt(@Nullable Map<String, Object> headers) {
        try {
            return HeaderValues.count(headers, Headers.ATTEMPT).orElse(0);
        } catch (HeaderValues.Mistyped e) {
            return 0;
        }
    }

    /** The entity key ({@code x-hopper-key}), or null for an unkeyed task or an unreadable header. */
    public @Nullable String key() {
        return HeaderValues.display(properties.getHeaders(), Headers.KEY).filter(k -> !k.isBlank()).orElse(null);
    }

    /** The group this dead letter belongs to: same reason, error class and top stack frame. */
    public String groupId() {
        return DeadLetterGroups.groupId(reason, errorClass, topFrame);
    }

    public Optional<Instant> failedAtValue() {
        return Optional.ofNullable(failedAt);
    }

    /** The headers as delivered (possibly empty, never null). */
    public Map<String, Object> headers() {
        Map<String, Object> h = properties.getHeaders();
        return h == null ? Map.of() : h;
    }
}
