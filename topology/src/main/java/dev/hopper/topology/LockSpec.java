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
 */
public record LockSpec(Duration lease, int maxWaits, SupersededPolicy superseded) {
    public static final LockSpec DEFAULT = new LockSpec(Duration.ofSeconds(30), 100, SupersededPolicy.SKIP);

    public LockSpec {
        requireNonNull(lease, "lease");
        requireNonNull(superseded, "superseded");
        if (lease.compareTo(Duration.ofMillis(300)) < 0) {
            throw new IllegalArgumentException("lock lease must be at least 300ms, was " + DurationText.format(lease));
        }
        if (maxWaits < 0) {
            throw new IllegalArgumentException("lock max-waits must be >= 0, was " + maxWaits);
        }
    }
}
