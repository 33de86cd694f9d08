package dev.hopper.consumer;

/** How a delivery was settled; the {@code outcome} tag of {@code hopper.tasks.processed}. */
public enum Outcome {
    /** The handler succeeded; acked. */
    SUCCESS("success"),
    /** A copy went to a delay queue (or straight back to the work queue after a revision change). */
    RETRIED("retried"),
    /** A copy went to the dead-letter queue. */
    DEAD("dead"),
    /** Acked without running: the task's revision was stale (policy skip). */
    SUPERSEDED("superseded"),
    /** Sent back through a delay queue because another worker held the key's lock. */
    LOCK_BUSY("lock_busy"),
    /** Acked without running: a redelivery of a task already completed (done-marker). */
    DUPLICATE("duplicate"),
    /** Handed back to the queue unrun (shutdown, store unavailable); no attempt counted. */
    RETURNED("returned"),
    /**
     * Not run yet: its not-before time (or its coalesced run's due time) is still ahead, so a copy went through a
     * delay tier again; no attempt counted (design.md, "Delayed tasks").
     */
    DELAYED("delayed"),
    /** Acked without running: a coalesced run that another message carries or a later run already covered. */
    COALESCED("coalesced");

    private final String tagValue;

    Outcome(String tagValue) {
        this.tagValue = tagValue;
    }

    public String tagValue() {
        return tagValue;
    }
}
