package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * What the coordination store keeps of a parent's join until it is due: the worker that completes the last child
 * publishes it, and that worker may be any process, so the join's whole description lives with the group.
 * Immutable.
 *
 * @param id the join's message id (derived from the parent's id and its index, so every copy has the same)
 * @param queue the work queue it goes to
 * @param type its task type
 * @param key its entity key, or null
 * @param payload its JSON payload as the parent's handler gave it (a JSON object; the children's results are added
 *     when it is published), at most {@link FollowUpStore#MAX_JOIN_PAYLOAD_BYTES} bytes in UTF-8
 */
public record JoinTask(String id, String queue, String type, @Nullable String key, String payload) {
    public JoinTask {
        requireNonNull(id, "id");
        requireNonNull(queue, "queue");
        requireNonNull(type, "type");
        requireNonNull(payload, "payload");
        if (id.isBlank() || queue.isBlank() || type.isBlank()) {
            throw new IllegalArgumentException("a join needs an id, a queue and a type");
        }
        int bytes = payload.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > FollowUpStore.MAX_JOIN_PAYLOAD_BYTES) {
            throw new FollowUpLimitException("the join's payload (type '" + type + "') has " + bytes + " bytes, over "
                    + "the limit of " + FollowUpStore.MAX_JOIN_PAYLOAD_BYTES + " bytes: the store keeps it until every "
                    + "child is done; pass large data by reference (a URL or a key) instead");
        }
    }

    @Override
    public String toString() {
        // Never the payload: it is the user's data.
        return "JoinTask[id=" + id + ", queue=" + queue + ", type=" + type + ", key=" + key + "]";
    }
}
