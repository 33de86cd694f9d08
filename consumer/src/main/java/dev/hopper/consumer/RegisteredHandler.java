package dev.hopper.consumer;

import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;

/**
 * A handler with the reader for its payload type. A {@code byte[]} payload type receives the body as it arrived
 * (after checking it is well-formed JSON), for handlers that pass it on unchanged: a process's stdin, an HTTP body.
 */
record RegisteredHandler<T>(String type, Class<T> payloadType, ObjectReader reader, TaskHandler<T> handler) {

    /** Reads the payload. @throws IOException when the body is not valid JSON for the payload type */
    Object read(byte[] body) throws IOException {
        if (payloadType == byte[].class) {
            reader.readTree(body); // well-formedness only; the handler gets the original bytes
            return body;
        }
        return reader.readValue(body);
    }

    void run(Object payload, TaskContext ctx) throws Exception {
        handler.handle(payloadType.cast(payload), ctx);
    }
}
