package dev.hopper.ops.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hopper.ops.dlq.DeadLetter;
import dev.hopper.ops.dlq.DeadLetterJson;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One dead letter as the letter page shows it: properties, headers, the failure (class, message, stack) and the
 * payload pretty-printed, cut to {@link #PAYLOAD_BUDGET} characters. Plain data for JSON; the page renders every
 * value as text. Thread-safe.
 */
final class LetterView {
    /** The most payload text a letter page shows (and the detail cache keeps per letter). */
    static final int PAYLOAD_BUDGET = 64 * 1024;
    /** Header values longer than this are cut (stacks are already bounded by the worker). */
    static final int HEADER_BUDGET = 16 * 1024;

    /** A rendered letter. */
    record Detail(String id, ObjectNode json) {}

    private final ObjectMapper mapper;
    private final DeadLetterJson json = new DeadLetterJson();

    LetterView(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    Detail detail(DeadLetter d, int position) {
        ObjectNode o = mapper.createObjectNode();
        o.put("id", d.messageId());
        o.put("type", d.type());
        o.put("position", position);
        o.put("reason", d.reason());
        o.put("errorClass", d.errorClass());
        o.put("errorMessage", cut(d.errorMessage(), HEADER_BUDGET));
        o.put("stack", cut(HeaderValues.display(d.properties().getHeaders(), Headers.ERROR_STACK).orElse(null),
                HEADER_BUDGET));
        o.put("topFrame", d.topFrame());
        o.put("group", d.groupId());
        o.put("key", HeaderValues.display(d.properties().getHeaders(), Headers.KEY).orElse(null));
        o.put("attempt", d.attempt());
        o.put("failedAt", d.failedAt() == null ? null : d.failedAt().toString());
        o.put("originQueue", d.originQueue());
        ObjectNode all = json.toJson(d.properties(), new byte[0]);
        ObjectNode props = o.putObject("properties");
        ObjectNode headers = o.putObject("headers");
        for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("headers")) {
                e.getValue().fields().forEachRemaining(h -> headers.put(h.getKey(), headerText(h.getValue())));
            } else if (!e.getKey().startsWith("payload")) {
                props.set(e.getKey(), e.getValue());
            }
        }
        byte[] body = d.body();
        o.put("payloadBytes", body.length);
        @Nullable String text;
        String encoding;
        JsonNode tree = parse(body);
        if (tree != null) {
            encoding = "json";
            text = pretty(tree);
        } else if ((text = utf8(body)) != null) {
            encoding = "text";
        } else {
            encoding = "base64";
            text = Base64.getEncoder().encodeToString(body);
        }
        o.put("payloadEncoding", encoding);
        o.put("payloadTruncated", text != null && text.length() > PAYLOAD_BUDGET);
        o.put("payload", cut(text, PAYLOAD_BUDGET));
        return new Detail(d.messageId(), o);
    }

    private String headerText(JsonNode v) {
        String s = v.isTextual() ? v.asText() : v.toString();
        return cut(s, HEADER_BUDGET);
    }

    private @Nullable JsonNode parse(byte[] body) {
        if (body.length == 0 || body.length > 4 * PAYLOAD_BUDGET) {
            return null; // a huge body is shown as text, cut: pretty-printing it would cost more than it shows
        }
        try {
            return mapper.readTree(body);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private String pretty(JsonNode tree) {
        try {
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            return tree.toString();
        }
    }

    private static @Nullable String utf8(byte[] body) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body, 0, Math.min(body.length, 4 * PAYLOAD_BUDGET))).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static @Nullable String cut(@Nullable String s, int budget) {
        if (s == null || s.length() <= budget) {
            return s;
        }
        return s.substring(0, budget) + "… (" + (s.length() - budget) + " more characters)";
    }
}
