package dev.hopper.ops.console;

import dev.hopper.ops.dlq.DeadLetter;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What the index keeps of one dead letter: enough to list, filter and group it, never its payload or stack (those
 * are read on demand). About 300 to 500 bytes each; repeated strings (type, reason, class, frame, group) are shared
 * within a snapshot.
 *
 * @param position 0-based position in the dead queue when the index was read
 * @param errorMessage the error message, cut to {@link #MESSAGE_BUDGET} characters
 */
record IndexedLetter(int position, String id, String type, @Nullable String reason, @Nullable String errorClass,
        @Nullable String errorMessage, @Nullable String topFrame, @Nullable String key, @Nullable Instant failedAt,
        int attempt, String group) {

    /** How much of an error message the index keeps. */
    static final int MESSAGE_BUDGET = 200;

    static IndexedLetter of(int position, DeadLetter d, StringPool pool) {
        String message = d.errorMessage();
        if (message != null && message.length() > MESSAGE_BUDGET) {
            message = message.substring(0, MESSAGE_BUDGET - 1) + "…";
        }
        String key = HeaderValues.display(d.properties().getHeaders(), Headers.KEY).orElse(null);
        return new IndexedLetter(position, d.messageId(), pool.share(d.type()), pool.share(d.reason()),
                pool.share(d.errorClass()), pool.share(message), pool.share(d.topFrame()), key, d.failedAt(),
                d.attempt(), pool.share(d.groupId()));
    }
}
