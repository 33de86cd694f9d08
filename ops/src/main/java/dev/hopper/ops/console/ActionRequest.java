package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A replay or purge asked for by the page (or a script): what to act on and how.
 *
 * <p>What: a selection of message ids, or a query (a filter, or a group id as {@code query.group}); never both.
 * An empty selection with a query that selects all means every dead letter.
 *
 * @param ids the selected message ids (at most {@link #MAX_IDS}), or empty
 * @param to replay into this work queue instead of each letter's origin (replay only)
 * @param resetAttempts give the tasks their full retry budget again (replay only)
 * @param ratePerSecond at most this many replays per second, 0 for no limit (replay only)
 */
record ActionRequest(List<String> ids, LetterQuery query, boolean dryRun, @Nullable String to,
        boolean resetAttempts, int ratePerSecond) {
    /** The most ids one request may name. */
    static final int MAX_IDS = 10_000;

    ActionRequest {
        ids = List.copyOf(ids);
        requireNonNull(query, "query");
        if (ids.size() > MAX_IDS) {
            throw new IllegalArgumentException("at most " + MAX_IDS + " ids per request, got " + ids.size());
        }
        if (!ids.isEmpty() && !query.selectsAll()) {
            throw new IllegalArgumentException("give either ids or a filter/group, not both");
        }
        if (ratePerSecond < 0) {
            throw new IllegalArgumentException("rate must be >= 0, was " + ratePerSecond);
        }
    }
}
