package dev.hopper.coordination;

/** What {@link FollowUpStore#openGroup} found. */
public enum GroupOpening {
    /** No state existed for the parent: the plan is recorded. */
    OPENED,
    /** The parent ran before and recorded the same follow-ups (a re-run after a crash): nothing changed. */
    ALREADY_OPEN,
    /**
     * The parent ran before and recorded different follow-ups (a handler whose follow-ups depend on something other
     * than its payload): the first plan is kept, because its children may already be running.
     */
    CONFLICT
}
