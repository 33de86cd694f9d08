package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How a coalesced task's triggers are merged into runs (design.md, "Coalescing"): a pending run's due time moves by
 * {@code debounce} with each trigger it absorbs, but never past the last run's start plus {@code maxDelay}; after a
 * run, the next one starts no sooner than {@code debounce} later. Immutable.
 *
 * <p>On the wire it is the header {@link Headers#COALESCE} with the value {@code "<debounce-ms>/<max-delay-ms>"}.
 *
 * @param debounce positive, whole milliseconds
 * @param maxDelay at least {@code debounce}, at most {@link #MAX_DELAY_LIMIT}
 */
public record CoalesceWindow(Duration debounce, Duration maxDelay) {
    /** Upper bound of {@code maxDelay}: coalescing state must expire on its own within a bounded time. */
    public static final Duration MAX_DELAY_LIMIT = Duration.ofDays(30);

    public CoalesceWindow {
        requireNonNull(debounce, "debounce");
        requireNonNull(maxDelay, "maxDelay");
        if (debounce.isNegative() || debounce.toMillis() < 1) {
            throw new IllegalArgumentException("coalesce debounce must be at least 1ms, was "
                    + DurationText.format(debounce));
        }
        if (maxDelay.compareTo(debounce) < 0) {
            throw new IllegalArgumentException("coalesce max-delay (" + DurationText.format(maxDelay)
                    + ") must be at least the debounce (" + DurationText.format(debounce) + ")");
        }
        if (maxDelay.compareTo(MAX_DELAY_LIMIT) > 0) {
            throw new IllegalArgumentException("coalesce max-delay must be at most 30d, was "
                    + DurationText.format(maxDelay));
        }
        // Whole milliseconds: the header and the stores speak milliseconds, so the window must round-trip.
        debounce = Duration.ofMillis(debounce.toMillis());
        maxDelay = Duration.ofMillis(maxDelay.toMillis());
    }

    /** The value of {@link Headers#COALESCE}: {@code "30000/300000"} for 30s / 5m. */
    public String headerValue() {
        return debounce.toMillis() + "/" + maxDelay.toMillis();
    }

    /**
     * Reads a {@link #headerValue()}.
     *
     * @throws IllegalArgumentException naming what is wrong when {@code value} is not two whole numbers of
     *     milliseconds separated by a slash, or they do not make a valid window
     */
    public static CoalesceWindow parseHeader(String value) {
        String v = value.trim();
        int slash = v.indexOf('/');
        if (slash < 1 || slash == v.length() - 1 || v.length() > 40) {
            throw new IllegalArgumentException("\"" + Headers.truncate(v, 40)
                    + "\" is not <debounce-ms>/<max-delay-ms>");
        }
        long debounceMs;
        long maxDelayMs;
        try {
            debounceMs = Long.parseLong(v.substring(0, slash));
            maxDelayMs = Long.parseLong(v.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + v + "\" is not <debounce-ms>/<max-delay-ms>", e);
        }
        return new CoalesceWindow(Duration.ofMillis(debounceMs), Duration.ofMillis(maxDelayMs));
    }

    @Override
    public String toString() {
        return "CoalesceWindow[debounce=" + DurationText.format(debounce) + ", maxDelay="
                + DurationText.format(maxDelay) + "]";
    }
}
