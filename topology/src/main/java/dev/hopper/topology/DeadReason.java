package dev.hopper.topology;

import java.util.Optional;

/** Why a task ended in its dead-letter queue; the wire value goes in {@link Headers#DEAD_REASON}. */
public enum DeadReason {
    /** The retry policy ran out (max attempts or max age). */
    EXHAUSTED("exhausted"),
    /** The handler said the failure can never succeed ({@code PermanentTaskException} or a configured class). */
    PERMANENT("permanent"),
    /** The body or a control header could not be read; retrying cannot help. */
    MALFORMED("malformed"),
    /** No handler is registered for the task's type. */
    UNKNOWN_TYPE("unknown-type"),
    /** Redelivered more often than the crash-loop guard allows: it kills or hangs the worker. */
    POISON("poison"),
    /** The key's lock stayed busy for longer than the lock-wait budget. */
    LOCK_TIMEOUT("lock-timeout"),
    /**
     * A delayed task was still early after {@link DelayRoute#MAX_HOPS} trips through the delay tiers: its
     * {@code x-hopper-not-before} is further away than the tiers can reach within the cap (or a worker's clock is
     * far behind the publisher's). Stops an endless hop loop; replay after fixing the header or the tiers.
     */
    HOP_LIMIT("hop-limit");

    private final String wireValue;

    DeadReason(String wireValue) {
        this.wireValue = wireValue;
    }

    public String wireValue() {
        return wireValue;
    }

    /** The reason with this wire value, or empty for an unknown one. */
    public static Optional<DeadReason> fromWire(String value) {
        for (DeadReason r : values()) {
            if (r.wireValue.equals(value)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
