package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * One {@link CoordinationStore#checkAndLock} of a batch ({@link CoordinationStore#checkAndLockAll}); the fields are
 * that method's parameters.
 */
public record LockRequest(String key, @Nullable Long messageRevision, String owner, Duration lease,
        boolean lockIfSuperseded) {
    public LockRequest {
        requireNonNull(key, "key");
        requireNonNull(owner, "owner");
        requireNonNull(lease, "lease");
    }
}
