package dev.hopper.ops.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hopper.consumer.PermanentTaskException;
import dev.hopper.consumer.TaskHandler;
import java.util.List;

/**
 * {@code hopper worker --builtin NAME}: handlers for trials, demos and benchmarks, steered by the payload. Missing
 * fields count as 0 / false and other fields are ignored, so any JSON object works.
 *
 * <ul>
 *   <li>{@code noop}: succeeds at once.
 *   <li>{@code sleep}: sleeps {@code {"ms": N}} milliseconds (interruptible, so handler timeouts apply).
 *   <li>{@code fail}: fails the first {@code {"failures": N}} attempts with a retryable error, then succeeds;
 *       with {@code {"permanent": true}} it fails permanently (dead-lettered at once).
 * </ul>
 *
 * A negative or non-numeric {@code ms} or {@code failures} is a permanent failure. Stateless and thread-safe.
 */
final class BuiltinHandlers {
    static final List<String> NAMES = List.of("noop", "sleep", "fail");

    private BuiltinHandlers() {}

    /**
     * The handler called {@code name}.
     *
     * @throws IllegalArgumentException naming the built-ins when there is none by that name
     */
    static TaskHandler<JsonNode> named(String name) {
        switch (name) {
            case "noop":
                return (payload, ctx) -> { };
            case "sleep":
                return (payload, ctx) -> sleep(payload);
            case "fail":
                return (payload, ctx) -> fail(payload, ctx.attempt());
            default:
                throw new IllegalArgumentException("no built-in handler '" + name + "' (built-ins: "
                        + String.join(", ", NAMES) + ")");
        }
    }

    static void sleep(JsonNode payload) throws InterruptedException {
        Thread.sleep(nonNegative(payload, "ms"));
    }

    /** @param attempt runs before this one (0 on the first run) */
    static void fail(JsonNode payload, int attempt) {
        if (payload.path("permanent").asBoolean(false)) {
            throw new PermanentTaskException("builtin fail: the payload asks for a permanent failure");
        }
        long failures = nonNegative(payload, "failures");
        if (attempt < failures) {
            throw new DeliberateFailureException("builtin fail: failing attempt " + (attempt + 1) + " of the first "
                    + failures + " (payload \"failures\": " + failures + ")");
        }
    }

    private static long nonNegative(JsonNode payload, String field) {
        JsonNode n = payload.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return 0;
        }
        if (!n.canConvertToLong() || n.asLong() < 0) {
            throw new PermanentTaskException("payload field \"" + field + "\" must be a whole number >= 0, was "
                    + dev.hopper.topology.Headers.truncate(n.toString(), 50));
        }
        return n.asLong();
    }
}
