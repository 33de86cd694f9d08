package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

/**
 * What runs are coalesced per: one work queue, one task type, one entity key (design.md, "Coalescing"). Immutable.
 */
public record CoalesceKey(String queue, String type, String key) {
    public CoalesceKey {
        requireNonNull(queue, "queue");
        requireNonNull(type, "type");
        requireNonNull(key, "key");
        if (queue.isEmpty() || type.isEmpty() || key.isEmpty()) {
            throw new IllegalArgumentException("a coalesce key needs a queue, a type and a key, was " + queue + "/"
                    + type + "/" + key);
        }
    }
}
