package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * The answer of {@link CoalescingStore#scheduleOrAbsorb}: whether the publisher sends the task, and when it may
 * run. Dispatch with {@code instanceof}.
 */
public sealed interface CoalesceSchedule
        permits CoalesceSchedule.PublishNow, CoalesceSchedule.PublishDelayed, CoalesceSchedule.Absorbed {

    /** The task is the key's new pending run, to run at once: publish it to the work queue. */
    record PublishNow() implements CoalesceSchedule {}

    /**
     * The task is the key's new pending run, due at {@code notBefore} (the last run started less than a debounce
     * ago): publish it as a delayed task.
     */
    record PublishDelayed(Instant notBefore) implements CoalesceSchedule {
        public PublishDelayed {
            requireNonNull(notBefore, "notBefore");
        }
    }

    /**
     * A pending run already exists: publish nothing. The store kept this task's payload as the run's latest and
     * counted it.
     *
     * @param pendingMessageId the message id of the run that will carry this payload
     * @param due when that run is now due
     * @param absorbed how many publishes that run has absorbed so far, this one included
     */
    record Absorbed(String pendingMessageId, Instant due, long absorbed) implements CoalesceSchedule {
        public Absorbed {
            requireNonNull(pendingMessageId, "pendingMessageId");
            requireNonNull(due, "due");
        }
    }
}
