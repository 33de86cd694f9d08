package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;

/**
 * One delay queue's TTL. Every message in a tier waits the same time, so a tier never blocks at its head.
 *
 * @param delay the tier's TTL; positive, whole milliseconds
 */
public record DelayTier(Duration delay) implements Comparable<DelayTier> {
    public DelayTier {
        requireNonNull(delay, "delay");
        if (delay.isNegative() || delay.isZero()) {
            throw new IllegalArgumentException("a delay tier must be positive, was " + delay);
        }
        if (delay.toMillis() > Integer.MAX_VALUE) {
            // x-message-ttl is a 32-bit signed integer on the wire.
            throw new IllegalArgumentException("a delay tier must be at most 24d, was " + DurationText.format(delay));
        }
    }

    /** Parses {@code 5s}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 1d}, {@code 500ms}. */
    public static DelayTier parse(String text) {
        return new DelayTier(DurationText.parse(text));
    }

    public static DelayTier of(Duration delay) {
        return new DelayTier(delay);
    }

    /** The suffix used in queue names: {@code 30s} in {@code uploads.retry.30s}. */
    public String label() {
        return DurationText.format(delay);
    }

    /** TTL in milliseconds, as {@code x-message-ttl} wants it. */
    public int ttlMillis() {
        return (int) delay.toMillis();
    }

    /**
     * The tier a retry wanting {@code wanted} goes to: the smallest tier that is at least {@code wanted}, or the
     * largest tier when none is long enough (design.md, "Delay tiers").
     *
     * @throws IllegalArgumentException when {@code tiers} is empty
     */
    public static DelayTier pick(Collection<DelayTier> tiers, Duration wanted) {
        if (tiers.isEmpty()) {
            throw new IllegalArgumentException("no delay tiers to pick from");
        }
        DelayTier best = null;
        for (DelayTier t : tiers) {
            if (t.delay.compareTo(wanted) >= 0 && (best == null || t.compareTo(best) < 0)) {
                best = t;
            }
        }
        return best != null ? best : tiers.stream().max(Comparator.naturalOrder()).orElseThrow();
    }

    @Override
    public int compareTo(DelayTier o) {
        return delay.compareTo(o.delay);
    }

    @Override
    public String toString() {
        return label();
    }
}
