package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import java.util.function.Predicate;

/**
 * What follow-ups from a command or a webhook may ask for. Immutable.
 *
 * @param knownQueue whether a queue exists to publish to (the configured queues, or the broker's answer)
 * @param knownQueues the known queues as people should read them in an error ("thumbs, reports")
 * @param maxChildren the most follow-ups one parent may ask for, the join not counted
 * @param maxPayloadBytes the largest payload of one follow-up (UTF-8 JSON); a join's is also bounded by
 *     {@link dev.hopper.coordination.FollowUpStore#MAX_JOIN_PAYLOAD_BYTES}
 */
record FollowUpRules(Predicate<String> knownQueue, String knownQueues, int maxChildren, int maxPayloadBytes) {
    FollowUpRules {
        requireNonNull(knownQueue, "knownQueue");
        requireNonNull(knownQueues, "knownQueues");
        if (maxChildren < 1) {
            throw new IllegalArgumentException("maxChildren must be >= 1, was " + maxChildren);
        }
        if (maxPayloadBytes < 2) {
            throw new IllegalArgumentException("maxPayloadBytes must be >= 2, was " + maxPayloadBytes);
        }
    }
}
