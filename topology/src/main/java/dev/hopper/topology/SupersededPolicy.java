package dev.hopper.topology;

/** What a worker does with a task whose revision is older than its key's current revision. */
public enum SupersededPolicy {
    /** Ack without running and count it as superseded (the default). */
    SKIP("skip"),
    /** Run it against the current revision; on failure after a bump, republish at once. */
    REFRESH("refresh");

    private final String wireValue;

    SupersededPolicy(String wireValue) {
        this.wireValue = wireValue;
    }

    public String wireValue() {
        return wireValue;
    }
}
