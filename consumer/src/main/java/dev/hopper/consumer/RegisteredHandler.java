package dev.hopper.consumer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import java.io.IOException;

/**
 * A handler with the reader for its payload type. A {@code byte[]} payload type receives the body as it arrived
 * (after checking it is well-formed JSON), for handlers that pass it on unchanged: a process's stdin, an HTTP body.
 */
record RegisteredHandler<T>(String type, Class<T> payloadType, ObjectReader reader, TaskHandler<T> handler) {

    /** Reads the payload. @throws IOException when the body is not valid JSON for the payload type */
    Object read(byte[] body) throws IOException {
        if (payloadType == byte[].class) {
            checkWellFormed(body);
            return body; // the handler gets the original bytes
        }
        return reader.readValue(body);
    }

    /**
     * Checks that {@code body} is one well-formed JSON value, with the reader's parser constraints (nesting depth,
     * duplicate names) and its trailing-token rule, by walking the tokens: no tree is built and string values are
     * skipped without being decoded, so a raw handler does not pay for binding a payload it never looks at. Accepts
     * exactly what {@code reader.readTree(body)} accepted before (DeliveryReaderTest compares the two); strings are
     * bounded by the body's size limit, checked before this.
     */
    private void checkWellFormed(byte[] body) throws IOException {
        try (JsonParser p = reader.createParser(body)) {
            if (p.nextToken() == null) {
                return; // whitespace only: readTree answered a missing node, not an error
            }
            p.skipChildren();
            if (reader.isEnabled(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)) {
                JsonToken trailing = p.nextToken();
                if (trailing != null) {
                    throw MismatchedInputException.from(p, byte[].class, "Trailing token (of type " + trailing
                            + ") found after value (bound as `byte[]`): not allowed as per "
                            + "`DeserializationFeature.FAIL_ON_TRAILING_TOKENS`");
                }
            }
        }
    }

    void run(Object payload, TaskContext ctx) throws Exception {
        handler.handle(payloadType.cast(payload), ctx);
    }
}
