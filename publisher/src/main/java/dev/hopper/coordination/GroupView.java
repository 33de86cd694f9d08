package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A parent's follow-ups as the coordination store sees them, for {@code hopper group show}. A snapshot; immutable.
 *
 * @param parentId the parent's message id
 * @param children every child in the parent's order
 * @param join the join, or null when the parent asked for none
 */
public record GroupView(String parentId, List<ChildView> children, @Nullable JoinView join) {
    public GroupView {
        requireNonNull(parentId, "parentId");
        children = List.copyOf(children);
    }

    /** Where a child (or the join) stands. */
    public enum State {
        /** Published (or about to be), not done yet: queued, running or waiting for a retry. */
        PENDING,
        /** Its handler succeeded. */
        DONE,
        /** It was dead-lettered and has not succeeded since: it holds the join until replayed and successful. */
        DEAD
    }

    /** Where a join stands. */
    public enum JoinState {
        /** Some children are not done. */
        WAITING,
        /** Every child is done and the join was published; it has not finished yet. */
        PUBLISHED,
        /** The join's handler succeeded. */
        DONE,
        /** The join itself was dead-lettered. */
        DEAD
    }

    /**
     * @param index its position among the parent's follow-ups
     * @param deadReason the dead-letter reason (e.g. {@code permanent}) when {@link State#DEAD}
     * @param hasResult whether it stored a result for the join
     */
    public record ChildView(int index, String id, String queue, String type, State state, @Nullable String deadReason,
            boolean hasResult) {
        public ChildView {
            requireNonNull(id, "id");
            requireNonNull(queue, "queue");
            requireNonNull(type, "type");
            requireNonNull(state, "state");
        }
    }

    /** @param deadReason the dead-letter reason when {@link JoinState#DEAD} */
    public record JoinView(String id, String queue, String type, JoinState state, @Nullable String deadReason) {
        public JoinView {
            requireNonNull(id, "id");
            requireNonNull(queue, "queue");
            requireNonNull(type, "type");
            requireNonNull(state, "state");
        }
    }

    /** How many children are done. */
    public long done() {
        return children.stream().filter(c -> c.state() == State.DONE).count();
    }
}
