package dev.hopper.consumer;

import dev.hopper.coordination.ChildCompletion;
import dev.hopper.coordination.GroupOpening;
import org.jspecify.annotations.Nullable;

/**
 * The follow-up facts of one delivery (part of {@link DeliveryFacts}): what the handler asked for, and the result of
 * each {@link FollowUpEffect}. Immutable; {@code with...} returns a copy. A null fact is "not known yet".
 *
 * @param requested what the handler run asked for (null until it ran)
 * @param groupOpened the store's answer to opening this task's group
 * @param published this task's follow-ups were all published and confirmed
 * @param childCompletion the store's answer to counting this task in its parent's group
 * @param joinPublished the parent's due join was published and confirmed
 * @param joinRecorded the join's publication was recorded in the store (or that failed and was logged)
 * @param deadRecorded this task's dead-lettering was recorded in its parent's group (or that failed and was logged)
 * @param failure a follow-up step failed: the store did not answer, a publish was not confirmed, or a bound was hit
 */
record FollowUpFacts(@Nullable RequestedFollowUps requested, @Nullable GroupOpening groupOpened,
        @Nullable Boolean published, @Nullable ChildCompletion childCompletion, @Nullable Boolean joinPublished,
        @Nullable Boolean joinRecorded, @Nullable Boolean deadRecorded, @Nullable Throwable failure) {

    static final FollowUpFacts NONE = new FollowUpFacts(null, null, null, null, null, null, null, null);

    FollowUpFacts withRequested(RequestedFollowUps r) {
        return new FollowUpFacts(r, groupOpened, published, childCompletion, joinPublished, joinRecorded,
                deadRecorded, failure);
    }

    FollowUpFacts withGroupOpened(GroupOpening g) {
        return new FollowUpFacts(requested, g, published, childCompletion, joinPublished, joinRecorded, deadRecorded,
                failure);
    }

    FollowUpFacts withPublished() {
        return new FollowUpFacts(requested, groupOpened, true, childCompletion, joinPublished, joinRecorded,
                deadRecorded, failure);
    }

    FollowUpFacts withChildCompletion(ChildCompletion c) {
        return new FollowUpFacts(requested, groupOpened, published, c, joinPublished, joinRecorded, deadRecorded,
                failure);
    }

    FollowUpFacts withJoinPublished() {
        return new FollowUpFacts(requested, groupOpened, published, childCompletion, true, joinRecorded,
                deadRecorded, failure);
    }

    FollowUpFacts withJoinRecorded() {
        return new FollowUpFacts(requested, groupOpened, published, childCompletion, joinPublished, true,
                deadRecorded, failure);
    }

    FollowUpFacts withDeadRecorded() {
        return new FollowUpFacts(requested, groupOpened, published, childCompletion, joinPublished, joinRecorded,
                true, failure);
    }

    FollowUpFacts withFailure(Throwable t) {
        return new FollowUpFacts(requested, groupOpened, published, childCompletion, joinPublished, joinRecorded,
                deadRecorded, t);
    }
}
