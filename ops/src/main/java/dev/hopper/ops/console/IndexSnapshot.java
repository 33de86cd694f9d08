package dev.hopper.ops.console;

import dev.hopper.ops.dlq.DeadLetterGroups;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One read of a dead queue, immutable: the letters in queue order and their groups.
 *
 * @param depth ready messages in the dead queue when it was read
 * @param letters the first {@code min(depth, limit)} letters, in queue order
 * @param groups groups of {@code letters}, largest first
 * @param readAt when the read started
 * @param took how long the read took
 * @param error why the last refresh failed (this snapshot is then the previous one, or empty), else null
 */
record IndexSnapshot(String queue, long depth, List<IndexedLetter> letters, List<DeadLetterGroups.Group> groups,
        @Nullable Instant readAt, Duration took, @Nullable String error) {

    IndexSnapshot {
        letters = List.copyOf(letters);
        groups = List.copyOf(groups);
    }

    static IndexSnapshot empty(String queue) {
        return new IndexSnapshot(queue, 0, List.of(), List.of(), null, Duration.ZERO, null);
    }

    /** True when every dead letter of the queue (as of {@link #readAt}) is indexed. */
    boolean complete() {
        return letters.size() >= depth;
    }

    IndexSnapshot withError(String why) {
        return new IndexSnapshot(queue, depth, letters, groups, readAt, took, why);
    }
}
