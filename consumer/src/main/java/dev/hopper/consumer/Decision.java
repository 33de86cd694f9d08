package dev.hopper.consumer;

import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.RetryReason;
import org.jspecify.annotations.Nullable;

/** What to do with a delivery, as decided by {@link DeliveryDecider}. Dispatch with {@code instanceof}. */
sealed interface Decision
        permits Decision.Ack, Decision.RetryLater, Decision.DeadLetter, Decision.RequeueNow, Decision.HandBack {

    /** Ack the original; nothing else. */
    record Ack(Outcome outcome) implements Decision {}

    /**
     * Publish a copy to the delay queue of {@code tier} (confirmed), then ack the original.
     *
     * @param nextAttempt the copy's {@code x-hopper-attempt}
     * @param lockWaits the copy's {@code x-hopper-lock-waits}
     */
    record RetryLater(DelayTier tier, RetryReason reason, int nextAttempt, int lockWaits) implements Decision {}

    /** Publish a copy to the dead-letter queue with the reason and error (confirmed), then ack the original. */
    record DeadLetter(DeadReason reason, @Nullable String errorClass, @Nullable String errorMessage,
            @Nullable Throwable error) implements Decision {
        static DeadLetter of(DeadReason reason, Throwable error) {
            return new DeadLetter(reason, error.getClass().getName(), String.valueOf(error.getMessage()), error);
        }

        static DeadLetter of(DeadReason reason, String message) {
            return new DeadLetter(reason, null, message, null);
        }
    }

    /** Republish to the work queue at once (confirmed), attempt unchanged, then ack the original. */
    record RequeueNow(RetryReason reason) implements Decision {}

    /** Give the delivery back unrun, counting no attempt (shutdown, coordination store down). */
    record HandBack(String why) implements Decision {}
}
