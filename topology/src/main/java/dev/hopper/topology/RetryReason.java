package dev.hopper.topology;

import java.util.Optional;

/** Why a retried copy was made; the wire value goes in {@link Headers#RETRY_REASON}. */
public enum RetryReason {
    /** The handler failed with a retryable error. */
    ERROR("error"),
    /** Another worker held the key's lock. */
    LOCK_BUSY("lock-busy"),
    /** The key's revision moved while the handler failed; rerun at once against the new revision. */
    REVISION_CHANGED("revision-changed"),
    /** The lock's lease was lost while the handler ran. */
    LOCK_LOST("lock-lost");

    private final String wireValue;

    RetryReason(String wireValue) {
        this.wireValue = wireValue;
    }

    public String wireValue() {
        return wireValue;
    }

    /** The reason with this wire value, or empty for an unknown one. */
    public static Optional<RetryReason> fromWire(String value) {
        for (RetryReason r : values()) {
            if (r.wireValue.equals(value)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
