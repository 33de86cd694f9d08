package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Lock and revision settings of one queue.
 *
 * @param lease how long a worker holds a key's lock without renewing it (renewed every third of it)
 * @param maxWaits how many times a task may go back because its key's lock was busy before it is
 *     dead-lettered as {@code lock-timeout}; these waits are not attempts
 * @param superseded what to do with a task whose revision is older than the key's current one
 * @param waitInHand how long a task that finds its key busy waits in the worker's hand for the lock to change
 *     hands before it goes back through a delay tier (a {@code lock-busy} wait). Each time another run takes the
 *     key's lock the wait starts over, up to one {@code lease} in all, so a task for a key that many tasks want runs
 *     soon after the one before it instead of a tier later; a key held by one long or lost run still costs only
 *     this long. {@code 0}: no waiting in hand (every busy answer goes back through a tier at once)
 */
public record LockSpec(Duration lease, int maxWaits, SupersededPolicy superseded, Duration waitInHand) {
    /** The default {@link #waitInHand}: longer than most hand-overs take, short enough to hold a thread for. */
    public static final Duration DEFAULT_WAIT_IN_HAND = Duration.ofSeconds(2);

    public static final LockSpec DEFAULT = new LockSpec(Duration.ofSeconds(30), 100, SupersededPolicy.SKIP);

    /** With the default {@link #waitInHand}. */
    public LockSpec(Duration lease, int maxWaits, SupersededPolicy superseded) {
        this(lease, maxWaits, superseded, DEFAULT_WAIT_IN_HAND);
    }

    public LockSpec {
        requireNonNull(lease, "lease");
        requireNonNull(superseded, "superseded");
        requireNonNull(waitInHand, "waitInHand");
        if (waitInHand.isNegative()) {
            throw new IllegalArgumentException("lock wait-in-hand must be >= 0, was " + DurationText.format(waitInHand));
        }
        if (lease.compareTo(Duration.ofMillis(300)) < 0) {
            throw new IllegalArgumentException("lock lease must be at least 300ms, was " + DurationText.format(lease));
        }
        if (maxWaits < 0) {
            throw new IllegalArgumentException("lock max-waits must be >= 0, was " + maxWaits);
        }
    }
}
