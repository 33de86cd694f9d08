package dev.hopper.ops.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.topology.TaskJson;
import java.util.Collections;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The follow-ups and result in a webhook's 2xx answer. A receiver asks for them with a JSON body (Content-Type
 * {@code application/json} or {@code …+json}) that has a top-level field {@value #FIELD}:
 * <pre>{@code
 * {"hopper": {
 *    "result": {"pages": 12},
 *    "followUps": [
 *      {"queue": "thumbs", "type": "resize", "key": "img:1", "payload": {"page": 1}},
 *      {"queue": "reports", "type": "merge", "payload": {"doc": 7}, "after": "all"}
 *    ]}}
 * }</pre>
 * Each element of {@code followUps} is an object as on a {@code HOPPER_FOLLOW_UPS} line of {@code --exec}
 * ({@link FollowUpLines}); {@code result} is any JSON value, handed to this task's parent's join. Any other answer
 * (not JSON, no {@value #FIELD} field) asks for nothing, so receivers written before follow-ups keep working. A
 * {@value #FIELD} field that is malformed fails the task permanently with {@link BadFollowUpException}, and nothing
 * is published. Pure; thread-safe.
 */
final class WebhookReply {
    /** The top-level field of a reply that carries follow-ups. */
    static final String FIELD = "hopper";
    /** The largest JSON reply read for follow-ups. */
    static final int MAX_REPLY_BYTES = 16 * 1024 * 1024;

    private WebhookReply() {}

    /** True when a reply with this Content-Type is read for follow-ups. */
    static boolean isJson(@Nullable String contentType) {
        if (contentType == null) {
            return false;
        }
        String mediaType = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return mediaType.equals("application/json") || mediaType.endsWith("+json");
    }

    /**
     * The follow-ups of a 2xx reply's body.
     *
     * @throws BadFollowUpException when the {@value #FIELD} field is there but malformed
     */
    static FollowUps parse(byte[] body, @Nullable String contentType, FollowUpLines lines, ObjectMapper mapper) {
        if (!isJson(contentType) || body.length == 0) {
            return FollowUps.NONE;
        }
        JsonNode root;
        try {
            root = mapper.readTree(body);
        } catch (JsonProcessingException e) {
            return FollowUps.NONE; // Not JSON after all: a receiver that asks for nothing.
        } catch (java.io.IOException e) {
            return FollowUps.NONE;
        }
        if (root == null || !root.isObject() || !root.has(FIELD)) {
            return FollowUps.NONE;
        }
        String source = "the webhook's reply field \"" + FIELD + "\"";
        JsonNode hopper = root.get(FIELD);
        if (!hopper.isObject()) {
            throw new BadFollowUpException(source + " must be an object like {\"followUps\": [...], \"result\": ...}"
                    + "; nothing was published");
        }
        for (java.util.Iterator<String> names = hopper.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("followUps") && !name.equals("result")) {
                throw new BadFollowUpException(source + " has an unknown field \""
                        + dev.hopper.topology.Headers.truncate(name, 40) + "\" (allowed: followUps, result); nothing "
                        + "was published");
            }
        }
        JsonNode followUps = hopper.get("followUps");
        if (followUps != null && !followUps.isNull() && !followUps.isArray()) {
            throw new BadFollowUpException(source + ": \"followUps\" must be an array; nothing was published");
        }
        JsonNode resultNode = hopper.get("result");
        String result = null;
        if (resultNode != null && !resultNode.isNull()) {
            try {
                result = lines.checkResult(mapper.writeValueAsString(resultNode), source + " \"result\"");
            } catch (JsonProcessingException e) {
                throw new BadFollowUpException(source + ": cannot write its result: " + TaskJson.describe(e), e);
            }
        }
        return lines.fromNodes(followUps == null || followUps.isNull() ? Collections.emptyIterator()
                : followUps.elements(), result, "the webhook's followUps");
    }
}
