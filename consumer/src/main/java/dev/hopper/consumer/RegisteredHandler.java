package dev.hopper.consumer;

import com.fasterxml.jackson.databind.ObjectReader;

/** A handler with the reader for its payload type. */
record RegisteredHandler<T>(String type, Class<T> payloadType, ObjectReader reader, TaskHandler<T> handler) {

    void run(Object payload, TaskContext ctx) throws Exception {
        handler.handle(payloadType.cast(payload), ctx);
    }
}
