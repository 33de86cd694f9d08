package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.TaskJson;
import java.io.IOException;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads a delivery into a {@link Reading}: envelope (size first, then properties and headers), handler lookup,
 * payload. No I/O and no exception for bad input. Thread-safe; one per queue.
 */
final class DeliveryReader {
    private final EnvelopeCodec codec;
    private final Map<String, RegisteredHandler<?>> handlers;
    private final @Nullable RegisteredHandler<?> fallback;
    private final TypeTags typeTags;

    DeliveryReader(int maxBodyBytes, Map<String, RegisteredHandler<?>> handlers,
            @Nullable RegisteredHandler<?> fallback) {
        this(maxBodyBytes, handlers, fallback, new TypeTags(handlers.keySet(), fallback != null));
    }

    /** @param typeTags the worker's type tags, shared by its queues so their bound is the worker's */
    DeliveryReader(int maxBodyBytes, Map<String, RegisteredHandler<?>> handlers,
            @Nullable RegisteredHandler<?> fallback, TypeTags typeTags) {
        this.codec = new EnvelopeCodec(maxBodyBytes);
        this.handlers = Map.copyOf(handlers);
        this.fallback = fallback;
        this.typeTags = typeTags;
    }

    /** The broker's {@code x-delivery-count} (0 when absent or mistyped: a missing count means 0). */
    static int deliveryCount(AMQP.@Nullable BasicProperties props) {
        if (props == null) {
            return 0;
        }
        try {
            return HeaderValues.count(props.getHeaders(), Headers.BROKER_DELIVERY_COUNT, 0);
        } catch (HeaderValues.Mistyped e) {
            return 0;
        }
    }

    /**
     * The {@code x-hopper-suspect} count of a suspect copy, or {@link DeliveryFacts.Arrival#NOT_SUSPECT} when the
     * delivery is not a suspect (absent; a mistyped value is treated as absent: the delivery count still guards it).
     */
    static int suspectCrashes(AMQP.@Nullable BasicProperties props) {
        if (props == null) {
            return DeliveryFacts.Arrival.NOT_SUSPECT;
        }
        try {
            return HeaderValues.count(props.getHeaders(), Headers.SUSPECT, DeliveryFacts.Arrival.NOT_SUSPECT);
        } catch (HeaderValues.Mistyped e) {
            return DeliveryFacts.Arrival.NOT_SUSPECT;
        }
    }

    /** The {@code type} tag for metrics ({@link TypeTags}: the type itself, bounded, or {@code unknown}). */
    String typeTag(@Nullable String type) {
        return typeTags.tag(type);
    }

    Reading read(AMQP.@Nullable BasicProperties props, byte @Nullable [] body) {
        EnvelopeCodec.Decoded decoded = codec.decode(props, body);
        if (decoded instanceof EnvelopeCodec.Malformed m) {
            return new Reading.Malformed(m.reason(), m.messageId(), m.type());
        }
        EnvelopeCodec.Valid valid = (EnvelopeCodec.Valid) decoded;
        TaskEnvelope env = valid.envelope();
        RegisteredHandler<?> handler = handlers.getOrDefault(env.type(), fallback);
        if (handler == null) {
            return new Reading.UnknownType(env);
        }
        try {
            return new Reading.Readable(env, handler, handler.read(env.body()), valid.schedule());
        } catch (IOException | RuntimeException e) {
            String problem = e instanceof IOException io ? TaskJson.describe(io) : String.valueOf(e.getMessage());
            return new Reading.BadPayload(env, handler.payloadType().getSimpleName(), Headers.truncate(problem, 300));
        }
    }
}
