package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * How one handler run ended (the result of {@link Effect.RunHandler}).
 *
 * @param thrown what the handler threw, null when it returned normally
 * @param stop whether the run was stopped from outside (timeout, lost lease) before it returned
 * @param shuttingDown the worker was shutting down when the run ended (an interrupt may be the worker's own)
 */
record HandlerOutcome(Instant startedAt, Instant finishedAt, Duration took, @Nullable Throwable thrown,
        HandlerRun.Stop stop, boolean shuttingDown) {
    HandlerOutcome {
        requireNonNull(startedAt, "startedAt");
        requireNonNull(finishedAt, "finishedAt");
        requireNonNull(took, "took");
        requireNonNull(stop, "stop");
    }
}
