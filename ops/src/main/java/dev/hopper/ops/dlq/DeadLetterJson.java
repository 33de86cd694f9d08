package dev.hopper.ops.dlq;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import dev.hopper.topology.TaskJson;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The JSON-lines form of a message used by {@code hopper dlq export|import|show --json}: one object per message
 * with its AMQP properties, its headers and its payload.
 *
 * <pre>{@code
 * {"message_id":"…","type":"thumbnail","timestamp":"2026-11-23T10:00:00Z","content_type":"application/json",
 *  "delivery_mode":2,"headers":{"x-hopper-dead-reason":"exhausted",…},"payload":{"file":"a.png"}}
 * }</pre>
 *
 * A body that is JSON goes in {@code payload} as JSON (whitespace is not kept; numbers are kept exactly);
 * any other body goes in {@code payload_base64}. Header values become JSON strings, numbers, booleans, arrays
 * and objects; timestamps become ISO-8601 strings and byte arrays base64 strings. Thread-safe.
 */
public final class DeadLetterJson {
    /** Field names of the format. */
    static final String MESSAGE_ID = "message_id";
    static final String TYPE = "type";
    static final String TIMESTAMP = "timestamp";
    static final String CONTENT_TYPE = "content_type";
    static final String CONTENT_ENCODING = "content_encoding";
    static final String CORRELATION_ID = "correlation_id";
    static final String APP_ID = "app_id";
    static final String PRIORITY = "priority";
    static final String DELIVERY_MODE = "delivery_mode";
    static final String HEADERS = "headers";
    static final String PAYLOAD = "payload";
    static final String PAYLOAD_BASE64 = "payload_base64";

    /** A message read back from its JSON form. */
    public record Message(AMQP.BasicProperties properties, byte[] body) {}

    private final ObjectMapper mapper;

    public DeadLetterJson() {
        ObjectMapper m = TaskJson.newMapper().copy();
        // Keep numbers exactly as written: 1.50 stays 1.50, big integers stay whole.
        m.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        m.configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
        this.mapper = m;
    }

    /** The JSON object for a message. */
    public ObjectNode toJson(AMQP.BasicProperties props, byte[] body) {
        ObjectNode o = mapper.createObjectNode();
        putIfPresent(o, MESSAGE_ID, props.getMessageId());
        putIfPresent(o, TYPE, props.getType());
        if (props.getTimestamp() != null) {
            o.put(TIMESTAMP, props.getTimestamp().toInstant().toString());
        }
        putIfPresent(o, CONTENT_TYPE, props.getContentType());
        putIfPresent(o, CONTENT_ENCODING, props.getContentEncoding());
        putIfPresent(o, CORRELATION_ID, props.getCorrelationId());
        putIfPresent(o, APP_ID, props.getAppId());
        if (props.getPriority() != null) {
            o.put(PRIORITY, props.getPriority());
        }
        if (props.getDeliveryMode() != null) {
            o.put(DELIVERY_MODE, props.getDeliveryMode());
        }
        ObjectNode headers = o.putObject(HEADERS);
        if (props.getHeaders() != null) {
            // Sorted, so exports of the same messages are byte-identical and diffable.
            new java.util.TreeMap<>(props.getHeaders()).forEach((k, v) -> headers.set(k, mapper.valueToTree(plain(v))));
        }
        JsonNode payload = parseJson(body);
        if (payload != null) {
            o.set(PAYLOAD, payload);
        } else {
            o.put(PAYLOAD_BASE64, Base64.getEncoder().encodeToString(body));
        }
        return o;
    }

    /** One line of JSON (no line breaks inside). */
    public String toLine(AMQP.BasicProperties props, byte[] body) {
        try {
            return mapper.writeValueAsString(toJson(props, body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render a message as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The body as a JSON tree when it is JSON, else null. */
    @Nullable JsonNode parseJson(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        try {
            return mapper.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Reads one line back.
     *
     * @throws IllegalArgumentException naming the field that is wrong
     */
    public Message fromLine(String line) {
        JsonNode node;
        try {
            node = mapper.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        AMQP.BasicProperties.Builder b = new AMQP.BasicProperties.Builder()
                .messageId(text(node, MESSAGE_ID))
                .type(text(node, TYPE))
                .contentType(text(node, CONTENT_TYPE))
                .contentEncoding(text(node, CONTENT_ENCODING))
                .correlationId(text(node, CORRELATION_ID))
                .appId(text(node, APP_ID))
                .deliveryMode(2);
        String ts = text(node, TIMESTAMP);
        if (ts != null) {
            try {
                b.timestamp(Date.from(Instant.parse(ts)));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(TIMESTAMP + " is not an ISO-8601 instant: " + ts);
            }
        }
        JsonNode priority = node.get(PRIORITY);
        if (priority != null && !priority.isNull()) {
            if (!priority.canConvertToInt()) {
                throw new IllegalArgumentException(PRIORITY + " must be a number");
            }
            b.priority(priority.asInt());
        }
        Map<String, Object> headers = new LinkedHashMap<>();
        JsonNode h = node.get(HEADERS);
        if (h != null && !h.isNull()) {
            if (!h.isObject()) {
                throw new IllegalArgumentException(HEADERS + " must be an object");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                Object v = amqpValue(e.getValue());
                if (v != null) {
                    headers.put(e.getKey(), v);
                }
            }
        }
        b.headers(headers);
        return new Message(b.build(), body(node));
    }

    private byte[] body(JsonNode node) {
        JsonNode payload = node.get(PAYLOAD);
        JsonNode base64 = node.get(PAYLOAD_BASE64);
        if (payload != null && base64 != null) {
            throw new IllegalArgumentException("has both " + PAYLOAD + " and " + PAYLOAD_BASE64);
        }
        if (base64 != null) {
            try {
                return Base64.getDecoder().decode(base64.asText());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(PAYLOAD_BASE64 + " is not base64");
            }
        }
        if (payload == null) {
            throw new IllegalArgumentException("has neither " + PAYLOAD + " nor " + PAYLOAD_BASE64);
        }
        try {
            return mapper.writeValueAsBytes(payload);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("payload cannot be written back: " + e.getOriginalMessage());
        }
    }

    private static @Nullable String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException(field + " must be a string");
        }
        return v.asText();
    }

    private static void putIfPresent(ObjectNode o, String field, @Nullable String value) {
        if (value != null) {
            o.put(field, value);
        }
    }

    /** An AMQP header value as plain Java data Jackson can write. */
    static @Nullable Object plain(@Nullable Object v) {
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v;
        }
        if (v instanceof LongString ls) {
            return new String(ls.getBytes(), StandardCharsets.UTF_8);
        }
        if (v instanceof Date d) {
            return d.toInstant().toString();
        }
        if (v instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(x -> out.add(plain(x)));
            return out;
        }
        if (v instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, x) -> out.put(String.valueOf(k), plain(x)));
            return out;
        }
        return String.valueOf(v);
    }

    /** A JSON value as an AMQP header value (null for JSON null, which AMQP headers do not need). */
    private static @Nullable Object amqpValue(JsonNode v) {
        if (v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isIntegralNumber()) {
            BigInteger i = v.bigIntegerValue();
            if (i.bitLength() < 32) {
                return i.intValue();
            }
            if (i.bitLength() < 64) {
                return i.longValue();
            }
            return new BigDecimal(i);
        }
        if (v.isNumber()) {
            return v.decimalValue();
        }
        if (v.isArray()) {
            List<Object> out = new ArrayList<>();
            v.forEach(x -> out.add(amqpValue(x)));
            return out;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            Object x = amqpValue(e.getValue());
            if (x != null) {
                out.put(e.getKey(), x);
            }
        }
        return out;
    }
}
