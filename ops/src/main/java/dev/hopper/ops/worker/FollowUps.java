package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import dev.hopper.publisher.Task;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The follow-ups a command or webhook asked for, validated, in the order it asked for them, and the result it
 * returned. Immutable.
 *
 * @param children the follow-ups that are not the join
 * @param join the follow-up with {@code "after": "all"}, or null
 * @param result the result for the parent's own join, as JSON text, or null
 */
record FollowUps(List<Task> children, @Nullable Task join, @Nullable String result) {
    static final FollowUps NONE = new FollowUps(List.of(), null, null);

    FollowUps {
        children = List.copyOf(requireNonNull(children, "children"));
    }

    boolean isEmpty() {
        return children.isEmpty() && join == null && result == null;
    }

    /** Asks {@code ctx} for these follow-ups, the join and the result, in order. */
    void handTo(dev.hopper.consumer.TaskContext ctx) {
        for (Task t : children) {
            ctx.followUp(t);
        }
        if (join != null) {
            ctx.join(join);
        }
        if (result != null) {
            ctx.result(result);
        }
    }
}
