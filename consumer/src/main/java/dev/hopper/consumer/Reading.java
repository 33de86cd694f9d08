package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.TaskEnvelope;
import org.jspecify.annotations.Nullable;

/** What reading a delivery gave ({@link DeliveryReader}); the first facts {@link DeliveryDecider} looks at. */
sealed interface Reading permits Reading.Malformed, Reading.UnknownType, Reading.BadPayload, Reading.Readable {

    /** The envelope, when the headers could be read. */
    @Nullable TaskEnvelope envelope();

    /** Properties, headers or body unreadable (design.md step 1). */
    record Malformed(String reason, @Nullable String messageId, @Nullable String type) implements Reading {
        public Malformed {
            requireNonNull(reason, "reason");
        }

        @Override
        public @Nullable TaskEnvelope envelope() {
            return null;
        }
    }

    /** Readable, but no handler for its type and no default handler. */
    record UnknownType(TaskEnvelope envelope) implements Reading {
        public UnknownType {
            requireNonNull(envelope, "envelope");
        }
    }

    /** Readable headers, but the body is not valid JSON for the handler's payload type. */
    record BadPayload(TaskEnvelope envelope, String payloadType, String problem) implements Reading {
        public BadPayload {
            requireNonNull(envelope, "envelope");
            requireNonNull(payloadType, "payloadType");
            requireNonNull(problem, "problem");
        }
    }

    /** Ready to run: the handler and the payload it gets. */
    record Readable(TaskEnvelope envelope, RegisteredHandler<?> handler, Object payload) implements Reading {
        public Readable {
            requireNonNull(envelope, "envelope");
            requireNonNull(handler, "handler");
            requireNonNull(payload, "payload");
        }
    }
}
