package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.ChildCompletion;
import dev.hopper.coordination.GroupPlan;
import dev.hopper.publisher.Task;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The {@link Effect}s of follow-up tasks and joins (design.md, "Follow-up tasks and joins"), carried out by
 * {@link FollowUpEffects}. Kept apart from the core effects so the follow-up protocol reads in one place; the order
 * in which {@link DeliveryDecider} asks for them is the protocol of {@link dev.hopper.coordination.FollowUpStore}.
 */
sealed interface FollowUpEffect extends Effect permits FollowUpEffect.OpenGroup, FollowUpEffect.PublishFollowUps,
        FollowUpEffect.CompleteChild, FollowUpEffect.PublishJoin, FollowUpEffect.RecordJoinPublished,
        FollowUpEffect.RecordDead {

    /** Record the parent's plan in the store, before its follow-ups are published → {@code groupOpened}. */
    record OpenGroup(GroupPlan plan) implements FollowUpEffect {
        public OpenGroup {
            requireNonNull(plan, "plan");
        }
    }

    /** Publish each task to {@code hopper.tasks}, all confirmed → {@code followUpsPublished}. */
    record PublishFollowUps(List<Task> tasks) implements FollowUpEffect {
        public PublishFollowUps {
            tasks = List.copyOf(tasks);
        }
    }

    /**
     * Count this task in its parent's group with its result, writing its done-marker in the same store step →
     * {@code childCompletion}.
     */
    record CompleteChild(String parentId, String messageId, @Nullable String result, Duration doneTtl)
            implements FollowUpEffect {
        public CompleteChild {
            requireNonNull(parentId, "parentId");
            requireNonNull(messageId, "messageId");
            requireNonNull(doneTtl, "doneTtl");
        }
    }

    /** Publish the due join of {@code parentId} with its results added, confirmed → {@code joinPublished}. */
    record PublishJoin(String parentId, ChildCompletion.JoinDue due) implements FollowUpEffect {
        public PublishJoin {
            requireNonNull(parentId, "parentId");
            requireNonNull(due, "due");
        }
    }

    /** Record that the join of {@code parentId} was published → {@code joinRecorded} (a failure only logs). */
    record RecordJoinPublished(String parentId) implements FollowUpEffect {
        public RecordJoinPublished {
            requireNonNull(parentId, "parentId");
        }
    }

    /**
     * Record that this task, a follow-up of {@code parentId}, is being dead-lettered → {@code deadRecorded} (a
     * failure only logs: {@code hopper group show} then shows it pending).
     */
    record RecordDead(String parentId, String messageId, String reason) implements FollowUpEffect {
        public RecordDead {
            requireNonNull(parentId, "parentId");
            requireNonNull(messageId, "messageId");
            requireNonNull(reason, "reason");
        }
    }
}
