package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@link FollowUpStore#completeChild} answered. Each answer says whether this call counted the child for the
 * first time ({@code duplicate == false}) or found it counted already (a redelivery or a second copy).
 */
public sealed interface ChildCompletion
        permits ChildCompletion.Counted, ChildCompletion.JoinDue, ChildCompletion.Untracked {

    /** True when the child had been counted before this call. */
    boolean duplicate();

    /**
     * The child is counted and there is nothing to publish: other children are still outstanding, or every child is
     * done and the group has no join or its join was already published (or this was the join itself).
     *
     * @param done how many children are done
     * @param expected how many the group has
     */
    record Counted(int done, int expected, boolean duplicate) implements ChildCompletion {}

    /**
     * Every child is done and the join has not been recorded as published: publish it (confirmed, with its own
     * message id), then call {@link FollowUpStore#joinPublished}, then ack the child. Also answered to a duplicate
     * completion while that is still outstanding, so a worker that died between the store update and the publish
     * is replaced by whoever sees the child again.
     *
     * @param join the join as the parent asked for it
     * @param results one entry per child, in the parent's order: the child's result as JSON text, or null
     */
    record JoinDue(JoinTask join, List<@Nullable String> results, boolean duplicate) implements ChildCompletion {
        public JoinDue {
            requireNonNull(join, "join");
            // Not List.copyOf: entries may be null.
            results = Collections.unmodifiableList(new java.util.ArrayList<>(results));
        }
    }

    /**
     * The store holds no group for the parent (never opened, or expired after its retention) or the group does not
     * list this child: only the child's done-marker was written.
     *
     * @param reason why, for the log
     */
    record Untracked(String reason) implements ChildCompletion {
        @Override
        public boolean duplicate() {
            return false;
        }
    }
}
