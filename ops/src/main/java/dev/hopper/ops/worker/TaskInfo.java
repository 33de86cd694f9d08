package dev.hopper.ops.worker;

import dev.hopper.consumer.TaskContext;
import org.jspecify.annotations.Nullable;

/**
 * What the command-line handlers pass on about a task (as environment variables or HTTP headers). A plain
 * record so the handlers can be tested without a worker.
 *
 * @param attempt runs before this one: 0 on the first run
 * @param coalesced for a coalesced run: publishes it absorbed besides its own; null for a task that is not coalesced
 */
record TaskInfo(String queue, String messageId, String type, @Nullable String key, @Nullable Long revision,
        int attempt, @Nullable Long fencingToken, @Nullable Long coalesced) {

    /** A task that is not coalesced. */
    TaskInfo(String queue, String messageId, String type, @Nullable String key, @Nullable Long revision,
            int attempt, @Nullable Long fencingToken) {
        this(queue, messageId, type, key, revision, attempt, fencingToken, null);
    }

    static TaskInfo of(TaskContext ctx) {
        return new TaskInfo(ctx.queue(), ctx.messageId(), ctx.type(), ctx.key().orElse(null),
                ctx.revision().isPresent() ? ctx.revision().getAsLong() : null, ctx.attempt(),
                ctx.fencingToken().isPresent() ? ctx.fencingToken().getAsLong() : null,
                ctx.coalesced().isPresent() ? ctx.coalesced().getAsLong() : null);
    }
}
