package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.RetryReason;
import dev.hopper.topology.SupersededPolicy;
import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The one place that decides what happens to a delivery that did not simply succeed (design.md, step 5).
 * Pure: a function of the delivery's facts, the policy and the time passed in; no I/O, no clock of its own, so
 * it is unit-tested over a table of cases. Thread-safe.
 */
final class DeliveryDecider {

    /**
     * Everything known about a failed run.
     *
     * @param attempt the delivery's {@code x-hopper-attempt} (runs before this one)
     * @param firstAttemptAt when the first run started (this run's start if it is the first)
     * @param lockWaits the delivery's {@code x-hopper-lock-waits}
     * @param error what the handler threw (a timeout arrives as {@link HandlerTimeoutException})
     * @param leaseLost the key's lock was lost while the handler ran
     * @param revisionMoved the key's revision changed while the handler ran
     */
    record Failure(int attempt, Instant firstAttemptAt, int lockWaits, Throwable error, boolean leaseLost,
            boolean revisionMoved, SupersededPolicy superseded, RetryPolicy policy, List<DelayTier> tiers,
            Instant now) {
        Failure {
            requireNonNull(firstAttemptAt, "firstAttemptAt");
            requireNonNull(error, "error");
            requireNonNull(superseded, "superseded");
            requireNonNull(policy, "policy");
            requireNonNull(now, "now");
            tiers = List.copyOf(tiers);
        }
    }

    /** Decides for a failed run. */
    Decision onFailure(Failure f) {
        if (f.revisionMoved()) {
            // The world changed while the task failed: the failure may be what the new revision fixes.
            return f.superseded() == SupersededPolicy.SKIP
                    ? new Decision.Ack(Outcome.SUPERSEDED)
                    : new Decision.RequeueNow(RetryReason.REVISION_CHANGED);
        }
        if (!f.leaseLost() && isPermanent(f.error(), f.policy())) {
            return Decision.DeadLetter.of(DeadReason.PERMANENT, f.error());
        }
        int runs = f.attempt() + 1;
        if (runs >= f.policy().maxAttempts()) {
            return Decision.DeadLetter.of(DeadReason.EXHAUSTED, f.error());
        }
        Duration age = Duration.between(f.firstAttemptAt(), f.now());
        if (age.isNegative()) {
            age = Duration.ZERO; // a clock step backwards must not make a task younger than it is
        }
        Optional<Duration> maxAge = f.policy().maxAgeLimit();
        if (maxAge.isPresent() && age.compareTo(maxAge.get()) >= 0) {
            return Decision.DeadLetter.of(DeadReason.EXHAUSTED, f.error());
        }
        Optional<Duration> delay = wantedDelay(f.policy(), runs, age);
        if (delay.isEmpty()) {
            return Decision.DeadLetter.of(DeadReason.EXHAUSTED, f.error());
        }
        RetryReason reason = f.leaseLost() ? RetryReason.LOCK_LOST : RetryReason.ERROR;
        return new Decision.RetryLater(DelayTier.pick(f.tiers(), delay.get()), reason, runs, f.lockWaits());
    }

    /**
     * Decides for a task whose key's lock another worker holds: back through the tier nearest the holder's
     * remaining lease, not counting an attempt, until the lock-wait budget is spent.
     */
    Decision onLockBusy(int attempt, int lockWaits, int maxLockWaits, Duration remainingLease, List<DelayTier> tiers) {
        if (lockWaits >= maxLockWaits) {
            return Decision.DeadLetter.of(DeadReason.LOCK_TIMEOUT, "the key's lock stayed busy through "
                    + lockWaits + " waits (lock max-waits " + maxLockWaits + ")");
        }
        return new Decision.RetryLater(DelayTier.pick(tiers, remainingLease), RetryReason.LOCK_BUSY, attempt,
                lockWaits + 1);
    }

    /** How long the policy wants to wait before run number {@code runs + 1}; empty when it is over. */
    static Optional<Duration> wantedDelay(RetryPolicy p, int runs, Duration age) {
        if (!p.delays().isEmpty()) {
            return Optional.of(p.delays().get(Math.min(runs - 1, p.delays().size() - 1)));
        }
        if (!p.schedule().isEmpty()) {
            return p.scheduledDelay(age);
        }
        RetryPolicy.Backoff b = requireNonNull(p.backoff());
        IntervalFunction f = b.jitter() > 0
                ? IntervalFunction.ofExponentialRandomBackoff(b.initial(), b.multiplier(), b.jitter(), b.max())
                : IntervalFunction.ofExponentialBackoff(b.initial(), b.multiplier(), b.max());
        return Optional.of(Duration.ofMillis(f.apply(runs)));
    }

    /**
     * Permanent when the error (or a superclass) is {@link PermanentTaskException} or listed in
     * {@code permanent-on}, or when {@code retry-on} is non-empty and the error matches none of it.
     */
    static boolean isPermanent(Throwable error, RetryPolicy p) {
        if (error instanceof PermanentTaskException || matches(error, p.permanentOn())) {
            return true;
        }
        return !p.retryOn().isEmpty() && !(error instanceof HandlerTimeoutException) && !matches(error, p.retryOn());
    }

    private static boolean matches(@Nullable Throwable error, List<String> classNames) {
        if (error == null || classNames.isEmpty()) {
            return false;
        }
        for (Class<?> c = error.getClass(); c != null; c = c.getSuperclass()) {
            if (classNames.contains(c.getName())) {
                return true;
            }
        }
        return false;
    }
}
