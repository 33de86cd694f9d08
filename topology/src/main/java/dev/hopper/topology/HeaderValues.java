package dev.hopper.topology;

import com.rabbitmq.client.LongString;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Defensive reads of AMQP header values, which arrive as {@link LongString}, boxed numbers of any width,
 * {@link Date} or anything a foreign producer chose. Each read says one of three things: absent, a value, or
 * {@link Mistyped}. Never throws for bad data.
 */
public final class HeaderValues {
    private HeaderValues() {}

    /** A header that is present but cannot be read as the wanted type. */
    public static final class Mistyped extends HopperException {
        private static final long serialVersionUID = 1L;
        private final String header;

        Mistyped(String header, String problem) {
            super("header " + header + " " + problem, false);
            this.header = header;
        }

        public String header() {
            return header;
        }
    }

    /** The header as text (LongString, String, or a number rendered as text), or empty when absent. */
    public static Optional<String> text(@Nullable Map<String, Object> headers, String name) {
        Object v = headers == null ? null : headers.get(name);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof LongString || v instanceof String || v instanceof Number) {
            return Optional.of(v.toString());
        }
        if (v instanceof byte[] bytes) {
            return Optional.of(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        }
        return Optional.of(String.valueOf(v));
    }

    /**
     * The header as a string, strictly: present and not a string is {@link Mistyped}.
     *
     * @throws Mistyped when the header is present with a non-string type
     */
    public static Optional<String> strictText(@Nullable Map<String, Object> headers, String name) {
        Object v = headers == null ? null : headers.get(name);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof LongString || v instanceof String) {
            return Optional.of(v.toString());
        }
        throw new Mistyped(name, "should be a string but is a " + v.getClass().getSimpleName());
    }

    /**
     * The header as a whole number; accepts integer types of any width and digit strings.
     *
     * @throws Mistyped when present but not a whole number
     */
    public static Optional<Long> whole(@Nullable Map<String, Object> headers, String name) {
        Object v = headers == null ? null : headers.get(name);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return Optional.of(((Number) v).longValue());
        }
        if (v instanceof LongString || v instanceof String) {
            String s = v.toString().trim();
            try {
                return Optional.of(Long.parseLong(s));
            } catch (NumberFormatException e) {
                throw new Mistyped(name, "should be a whole number but is \"" + Headers.truncate(s, 40) + "\"");
            }
        }
        throw new Mistyped(name, "should be a whole number but is a " + v.getClass().getSimpleName());
    }

    /** Like {@link #whole} but bounded to a non-negative int. */
    public static Optional<Integer> count(@Nullable Map<String, Object> headers, String name) {
        Optional<Long> v = whole(headers, name);
        if (v.isPresent() && v.get() < 0) {
            throw new Mistyped(name, "should be a count >= 0 but is " + v.get());
        }
        if (v.isPresent() && v.get() > MAX_COUNT) {
            // Far beyond any retry policy: a forged or corrupted header. Refusing it here also keeps count + 1
            // (the next attempt) from overflowing into a negative number.
            throw new Mistyped(name, "should be a count <= " + MAX_COUNT + " but is " + v.get());
        }
        return v.map(Long::intValue);
    }

    /**
     * {@link #count(Map, String)} without the {@code Optional} and boxing, for reads done for every delivery:
     * {@code absent} when the header is missing. Same answers and the same {@link Mistyped}.
     */
    public static int count(@Nullable Map<String, Object> headers, String name, int absent) {
        Object v = headers == null ? null : headers.get(name);
        if (v == null) {
            return absent;
        }
        if (v instanceof Integer i && i >= 0 && i <= MAX_COUNT) {
            return i; // how Hopper writes counts
        }
        if (v instanceof Long l && l >= 0 && l <= MAX_COUNT) {
            return (int) (long) l;
        }
        return count(headers, name).orElse(absent); // any other form, or the Mistyped
    }

    /** The largest count header ({@code x-hopper-attempt}, lock waits, replays) Hopper accepts. */
    public static final int MAX_COUNT = 1_000_000;

    /**
     * The header as an instant: epoch milliseconds (a long or int, how design.md writes new time headers), an
     * ISO-8601 string (what older publishers write), or an AMQP timestamp.
     *
     * @throws Mistyped when present but not an instant
     */
    public static Optional<Instant> instant(@Nullable Map<String, Object> headers, String name) {
        Object v = headers == null ? null : headers.get(name);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Long || v instanceof Integer) {
            // Checked first: the cheap form (Instant.parse was a sixth of a worker's Java time in a profile).
            return Optional.of(Instant.ofEpochMilli(((Number) v).longValue()));
        }
        if (v instanceof Date d) {
            return Optional.of(d.toInstant());
        }
        if (v instanceof LongString || v instanceof String) {
            String s = v.toString().trim();
            Instant fast = IsoInstants.parse(s); // what Hopper's writers write, without java.time's formatter
            if (fast != null) {
                return Optional.of(fast);
            }
            try {
                return Optional.of(Instant.parse(s));
            } catch (DateTimeParseException e) {
                throw new Mistyped(name, "should be an ISO-8601 instant but is \"" + Headers.truncate(s, 40) + "\"");
            }
        }
        throw new Mistyped(name, "should be an ISO-8601 instant but is a " + v.getClass().getSimpleName());
    }

    /** Like {@link #text} but never throws and maps anything unreadable to empty: for display only. */
    public static Optional<String> display(@Nullable Map<String, Object> headers, String name) {
        try {
            return text(headers, name);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
