package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.io.IOException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The payload a join runs with (design.md, "Follow-up tasks and joins"): the payload its parent's handler gave it,
 * a JSON object, plus a field {@value #RESULTS} holding one entry per sibling follow-up, in the order the handler
 * asked for them: the JSON that child's handler returned ({@code ctx.result(json)}, {@code HOPPER_RESULT}), or
 * {@code null} for a child that returned nothing. Pure; thread-safe.
 */
public final class JoinPayload {
    /** The field the children's results go in. */
    public static final String RESULTS = "results";

    private JoinPayload() {}

    /**
     * Checks, when the handler asks for the join, that its payload can take the results: a JSON object without a
     * {@value #RESULTS} field, or JSON {@code null} (which becomes an empty object).
     *
     * @throws IllegalArgumentException saying what the payload is instead
     */
    public static void check(byte[] payload, ObjectMapper mapper) {
        asObject(payload, mapper);
    }

    /**
     * The join's payload with the children's results added.
     *
     * @param results one entry per child, each valid JSON text or null; written as they are, not parsed again
     * @throws IllegalArgumentException when the payload fails {@link #check}
     */
    public static byte[] withResults(byte[] payload, List<@Nullable String> results, ObjectMapper mapper) {
        requireNonNull(results, "results");
        ObjectNode object = asObject(payload, mapper);
        ArrayNode array = object.putArray(RESULTS);
        for (String result : results) {
            if (result == null) {
                array.addNull();
            } else {
                // Results were validated when the child stored them; raw keeps a 10,000-child join cheap to build.
                array.addRawValue(new RawValue(result));
            }
        }
        try {
            return mapper.writeValueAsBytes(object);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a join payload: " + TaskJson.describe(e), e);
        }
    }

    private static ObjectNode asObject(byte[] payload, ObjectMapper mapper) {
        requireNonNull(payload, "payload");
        requireNonNull(mapper, "mapper");
        JsonNode node;
        try {
            node = mapper.readTree(payload);
        } catch (IOException e) {
            throw new IllegalArgumentException("a join's payload must be JSON: " + TaskJson.describe(e), e);
        }
        if (node == null || node.isMissingNode() || node.isNull()) {
            return mapper.createObjectNode();
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("a join's payload must be a JSON object (the children's results are "
                    + "added to it as \"" + RESULTS + "\"), not " + node.getNodeType().name().toLowerCase(
                            java.util.Locale.ROOT));
        }
        if (node.has(RESULTS)) {
            throw new IllegalArgumentException("a join's payload must not have a \"" + RESULTS + "\" field: Hopper "
                    + "puts the children's results there");
        }
        return (ObjectNode) node;
    }
}
