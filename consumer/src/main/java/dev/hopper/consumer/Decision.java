package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.RetryReason;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * How a delivery is settled, as decided by {@link DeliveryDecider}: every record says fully what to publish (if
 * anything) and how to settle the original, so {@link DecisionSettler} only carries it out. Each settles the
 * delivery exactly once. Dispatch with {@code instanceof} (no pattern switch on Java 17).
 */
sealed interface Decision extends Step permits Decision.Ack, Decision.RetryLater, Decision.DeadLetter,
        Decision.Republish, Decision.HandBack, Decision.Hop, Decision.Quarantine {

    /** The {@code outcome} tag this settlement is counted under. */
    Outcome outcome();

    /** Runs so far, for the settled event (success and dead: including this one). */
    int attempts();

    /**
     * Ack the original; nothing else.
     *
     * @param outcome {@link Outcome#SUCCESS}, {@link Outcome#SUPERSEDED} or {@link Outcome#DUPLICATE}
     */
    record Ack(Outcome outcome, int attempts) implements Decision {
        public Ack {
            requireNonNull(outcome, "outcome");
        }
    }

    /**
     * Publish a copy to the delay queue of {@code tier} (confirmed), then ack the original.
     *
     * @param nextAttempt the copy's {@code x-hopper-attempt}
     * @param lockWaits the copy's {@code x-hopper-lock-waits}
     * @param firstAttemptAt the copy's {@code x-hopper-first-attempt-at}; null leaves it as it is (a lock wait did
     *     not run anything)
     * @param error the failure written as the copy's {@code x-hopper-error-*}, if any
     * @param coalesced for a failed coalesced run, what it claimed: the copy carries that payload and count, so it
     *     retries with them instead of claiming again; null otherwise
     */
    record RetryLater(DelayTier tier, RetryReason reason, int nextAttempt, int lockWaits,
            @Nullable Instant firstAttemptAt, @Nullable Throwable error, @Nullable CoalescedRun coalesced)
            implements Decision {
        public RetryLater {
            requireNonNull(tier, "tier");
            requireNonNull(reason, "reason");
        }

        /** A retry of a run that did not claim a coalesced payload. */
        RetryLater(DelayTier tier, RetryReason reason, int nextAttempt, int lockWaits,
                @Nullable Instant firstAttemptAt, @Nullable Throwable error) {
            this(tier, reason, nextAttempt, lockWaits, firstAttemptAt, error, null);
        }

        RetryLater withCoalesced(@Nullable CoalescedRun run) {
            return new RetryLater(tier, reason, nextAttempt, lockWaits, firstAttemptAt, error, run);
        }

        @Override
        public Outcome outcome() {
            return reason == RetryReason.LOCK_BUSY ? Outcome.LOCK_BUSY : Outcome.RETRIED;
        }

        @Override
        public int attempts() {
            return nextAttempt;
        }
    }

    /**
     * Publish a copy to the dead-letter queue with the reason and error (confirmed), then ack the original.
     *
     * @param attemptsHeader runs so far, written as the copy's {@code x-hopper-attempt}; null leaves the header as
     *     it arrived (input that could not be read)
     * @param coalesced for a coalesced run that died, what it claimed: the dead letter carries that payload, so a
     *     replay runs what the run ran; null otherwise
     */
    record DeadLetter(DeadReason reason, @Nullable String errorClass, @Nullable String errorMessage,
            @Nullable Throwable error, @Nullable Integer attemptsHeader, @Nullable CoalescedRun coalesced)
            implements Decision {
        public DeadLetter {
            requireNonNull(reason, "reason");
        }

        /** A dead letter of a delivery that claimed no coalesced payload. */
        DeadLetter(DeadReason reason, @Nullable String errorClass, @Nullable String errorMessage,
                @Nullable Throwable error, @Nullable Integer attemptsHeader) {
            this(reason, errorClass, errorMessage, error, attemptsHeader, null);
        }

        DeadLetter withCoalesced(@Nullable CoalescedRun run) {
            return new DeadLetter(reason, errorClass, errorMessage, error, attemptsHeader, run);
        }

        static DeadLetter of(DeadReason reason, Throwable error, int attempts) {
            return new DeadLetter(reason, error.getClass().getName(), String.valueOf(error.getMessage()), error,
                    attempts);
        }

        static DeadLetter of(DeadReason reason, String message, @Nullable Integer attempts) {
            return new DeadLetter(reason, null, message, null, attempts);
        }

        @Override
        public Outcome outcome() {
            return Outcome.DEAD;
        }

        @Override
        public int attempts() {
            return attemptsHeader == null ? 0 : attemptsHeader;
        }
    }

    /**
     * Publish a copy to the work queue at once (confirmed), attempt unchanged, then ack the original: the key's
     * revision moved while the task failed (policy refresh).
     */
    record Republish(RetryReason reason, Instant firstAttemptAt, int attempts) implements Decision {
        public Republish {
            requireNonNull(reason, "reason");
            requireNonNull(firstAttemptAt, "firstAttemptAt");
        }

        @Override
        public Outcome outcome() {
            return Outcome.RETRIED;
        }
    }

    /**
     * Not yet: publish a copy to the delay queue of {@code tier} (confirmed) with {@code x-hopper-not-before} set to
     * {@code notBefore} and {@code x-hopper-hops} to {@code hops}, then ack the original. No attempt counted, no lock
     * kept, no handler run (design.md, "Delayed tasks").
     *
     * @param notBefore the copy's not-before: the task's own, or the due time its coalesced run moved to
     * @param hops the copy's hop count (this hop included)
     */
    record Hop(DelayTier tier, Instant notBefore, int hops, int attempts) implements Decision {
        public Hop {
            requireNonNull(tier, "tier");
            requireNonNull(notBefore, "notBefore");
        }

        @Override
        public Outcome outcome() {
            return Outcome.DELAYED;
        }
    }

    /**
     * Give the delivery back unrun, counting no attempt.
     *
     * @param via how: {@link Via#COPY} republishes an unchanged copy to the tail of the work queue (confirmed)
     *     and acks, so RabbitMQ before 4.3 does not raise the delivery count the poison guard reads; it falls back
     *     to nack+requeue when the copy is not confirmed. {@link Via#NACK} is nack+requeue at once.
     */
    record HandBack(Why why, Via via, int attempts) implements Decision {
        public HandBack {
            requireNonNull(why, "why");
            requireNonNull(via, "via");
        }

        @Override
        public Outcome outcome() {
            return Outcome.RETURNED;
        }

        /** Why a delivery goes back unrun. */
        enum Why {
            /** The worker is shutting down. */
            SHUTDOWN,
            /**
             * The queue was paused with {@code Worker.pauseHandingBack} while the delivery waited in the hand-off: it
             * does not use an attempt on a queue that was paused because its handler cannot run at all.
             */
            HELD,
            /** A suspect ran alone on this worker for longer than the start-slot wait. */
            NO_START_SLOT,
            /** The queue's circuit breaker is open. */
            BREAKER_OPEN,
            /** The coordination store does not answer. */
            STORE_UNAVAILABLE,
            /**
             * A copy of a follow-up that already ran could not finish its group's bookkeeping (store or broker did
             * not answer): back, so a later delivery publishes a join that is due.
             */
            FOLLOW_UP_UNFINISHED
        }

        /** How it goes back. */
        enum Via { COPY, NACK }
    }

    /**
     * A suspect of crashing its workers (see {@link DeliveryDecider}, "Counting only runs"): publish a copy through
     * {@code tier} (confirmed) marked {@code x-hopper-suspect} = {@code soloStarts}, with a fresh delivery count,
     * then ack the original. Nothing ran; no attempt counted. If the copy is not confirmed the original goes back
     * with reject+requeue (the broker's delivery limit still bounds it).
     */
    record Quarantine(DelayTier tier, int soloStarts, int attempts) implements Decision {
        public Quarantine {
            requireNonNull(tier, "tier");
        }

        @Override
        public Outcome outcome() {
            return Outcome.RETURNED;
        }
    }
}
