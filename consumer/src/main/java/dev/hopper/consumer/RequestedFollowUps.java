package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import dev.hopper.publisher.Task;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What one handler run asked for through {@link TaskContext#followUp}, {@link TaskContext#join} and
 * {@link TaskContext#result}: the children already carrying their derived ids and parent, in the order asked for,
 * the join, and the result for this task's own parent. Immutable.
 *
 * @param children follow-ups that are not the join, as they will be published
 * @param join the join as the parent asked for it (its id and lineage set; its results not yet added), or null
 * @param result JSON text for this task's parent's join, or null
 */
record RequestedFollowUps(List<Task> children, @Nullable Task join, @Nullable String result) {
    static final RequestedFollowUps NONE = new RequestedFollowUps(List.of(), null, null);

    RequestedFollowUps {
        children = List.copyOf(requireNonNull(children, "children"));
    }

    /** True when the run asked for follow-ups (a join alone included). */
    boolean any() {
        return !children.isEmpty() || join != null;
    }
}
