package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Settings of the coordination store (locks, revisions, done-markers).
 *
 * @param namespace prefix of every key the store writes ({@code hopper:} by default)
 * @param doneMarkerTtl how long a completed message id is remembered, to ack redeliveries without running them
 * @param operationTimeout timeout of one store call; a worker never runs a task without its lock
 */
public record CoordinationSpec(String namespace, Duration doneMarkerTtl, Duration operationTimeout) {
    public static final CoordinationSpec DEFAULT =
            new CoordinationSpec("hopper:", Duration.ofDays(1), Duration.ofMillis(2000));

    public CoordinationSpec {
        requireNonNull(namespace, "namespace");
        requireNonNull(doneMarkerTtl, "doneMarkerTtl");
        requireNonNull(operationTimeout, "operationTimeout");
        if (doneMarkerTtl.isNegative() || doneMarkerTtl.isZero()) {
            throw new IllegalArgumentException("done-marker-ttl must be positive");
        }
        if (operationTimeout.isNegative() || operationTimeout.isZero()) {
            throw new IllegalArgumentException("coordination timeout must be positive");
        }
    }
}
