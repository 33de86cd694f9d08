package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * One {@link CoordinationStore#complete} of a batch ({@link CoordinationStore#completeAll}); the fields are that
 * method's parameters (a null key writes only the done-marker).
 */
public record Completion(@Nullable String key, String owner, long fencingToken, String messageId, Duration doneTtl) {
    public Completion {
        requireNonNull(owner, "owner");
        requireNonNull(messageId, "messageId");
        requireNonNull(doneTtl, "doneTtl");
    }
}
