package dev.hopper.topology;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hopper's duration syntax: a whole number and one unit, {@code 500ms}, {@code 5s}, {@code 30s}, {@code 5m},
 * {@code 1h}, {@code 1d}. Used in {@code hopper.yml}, in tier queue names ({@code uploads.retry.30s}) and on the
 * command line. {@link #format} renders the largest unit that divides the duration exactly, so parse and
 * format round-trip.
 */
public final class DurationText {
    private static final Pattern SYNTAX = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");

    private DurationText() {}

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException with a message that quotes the text and shows the expected form
     */
    public static Duration parse(String text) {
        Matcher m = SYNTAX.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "\"" + text + "\" is not a duration like 500ms, 30s, 5m, 1h, 1d");
        }
        long n = Long.parseLong(m.group(1));
        switch (m.group(2)) {
            case "ms":
                return Duration.ofMillis(n);
            case "s":
                return Duration.ofSeconds(n);
            case "m":
                return Duration.ofMinutes(n);
            case "h":
                return Duration.ofHours(n);
            default:
                return Duration.ofDays(n);
        }
    }

    /** Renders {@code d} in the largest unit that divides it exactly ({@code 90s} stays {@code 90s}). */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s == 0) {
            return "0s";
        }
        if (s % 86_400 == 0) {
            return s / 86_400 + "d";
        }
        if (s % 3_600 == 0) {
            return s / 3_600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
