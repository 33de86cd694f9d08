package dev.hopper.ops.worker;

import dev.hopper.consumer.PermanentTaskException;

/**
 * A command's or webhook's follow-ups or result could not be used: a line that is not JSON, an unknown queue, an
 * oversized payload or result, two joins, too many follow-ups. The parent fails permanently (its handler would
 * write the same lines again) and nothing is published; the message names the source, the line and the problem.
 */
final class BadFollowUpException extends PermanentTaskException {
    private static final long serialVersionUID = 1L;

    BadFollowUpException(String message) {
        super(message);
    }

    BadFollowUpException(String message, Throwable cause) {
        super(message, cause);
    }
}
