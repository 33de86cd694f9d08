package dev.hopper.topology;

import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * When a task may run and how its runs are coalesced, as its headers say (design.md, "Delayed tasks" and
 * "Coalescing"). Immutable. {@link #read} is the defensive reader of those headers; {@link #headers()} writes them.
 *
 * @param notBefore {@link Headers#NOT_BEFORE}: the task must not run before this instant; null for "at once"
 * @param coalesce {@link Headers#COALESCE}: the task is one run of a coalesced key; null when it is not coalesced
 * @param hops {@link Headers#HOPS}: trips through a delay tier so far
 * @param coalesced {@link Headers#COALESCED}: set on a run that already claimed its payload (a retry copy), to the
 *     number of publishes it absorbed; null for a run still to be claimed
 */
public record TaskSchedule(@Nullable Instant notBefore, @Nullable CoalesceWindow coalesce, int hops,
        @Nullable Long coalesced) {

    /** No not-before, not coalesced, never hopped. */
    public static final TaskSchedule NONE = new TaskSchedule(null, null, 0, null);

    /** The latest not-before Hopper accepts: the end of the year 9999 (ISO-8601's four-digit years). */
    public static final Instant LATEST_NOT_BEFORE = Instant.parse("9999-12-31T23:59:59.999Z");

    public TaskSchedule {
        if (hops < 0) {
            throw new IllegalArgumentException("hops must be >= 0, was " + hops);
        }
        if (coalesced != null && coalesced < 0) {
            throw new IllegalArgumentException("coalesced must be >= 0, was " + coalesced);
        }
        if (notBefore != null && (notBefore.isBefore(Instant.EPOCH) || notBefore.isAfter(LATEST_NOT_BEFORE))) {
            throw new IllegalArgumentException("not-before must be between 1970 and the end of 9999, was "
                    + notBefore);
        }
    }

    /**
     * True for a schedule equal to {@link #NONE} (most tasks): a field check on every publish, where the record's
     * {@code equals} goes through its generated method handles.
     */
    public boolean isNone() {
        return notBefore == null && coalesce == null && hops == 0 && coalesced == null;
    }

    public Optional<Instant> notBeforeValue() {
        return Optional.ofNullable(notBefore);
    }

    public Optional<CoalesceWindow> coalesceValue() {
        return Optional.ofNullable(coalesce);
    }

    /** True when the task must still wait at {@code now}. */
    public boolean isEarlyAt(Instant now) {
        return notBefore != null && now.isBefore(notBefore);
    }

    /** This schedule with another not-before (a coalesced run whose due time moved). */
    public TaskSchedule withNotBefore(@Nullable Instant instant) {
        return new TaskSchedule(instant, coalesce, hops, coalesced);
    }

    /** This schedule after one more trip through a delay tier. */
    public TaskSchedule withOneMoreHop() {
        return new TaskSchedule(notBefore, coalesce, hops + 1, coalesced);
    }

    /**
     * The headers of this schedule, for a new message or as changes to a republished copy: each of the four
     * headers maps to its value, or to null (remove it) when unset. {@link #hops} 0 is written as absent.
     */
    public Map<String, @Nullable Object> headers() {
        Map<String, @Nullable Object> h = new LinkedHashMap<>();
        h.put(Headers.NOT_BEFORE, notBefore == null ? null : notBefore.toEpochMilli());
        h.put(Headers.COALESCE, coalesce == null ? null : coalesce.headerValue());
        h.put(Headers.HOPS, hops == 0 ? null : hops);
        h.put(Headers.COALESCED, coalesced);
        return h;
    }

    /**
     * Reads the schedule headers, trusting none of them: a not-before must be epoch milliseconds (any integer type,
     * or a string of digits) between 1970 and the end of 9999, or an ISO-8601 string (older publishers), or an AMQP
     * timestamp; a coalesce header must be {@code "<debounce-ms>/<max-delay-ms>"}; counts must be whole and not
     * negative. Absent headers are absent.
     *
     * @throws HeaderValues.Mistyped naming the header and what is wrong with it; never anything else
     */
    public static TaskSchedule read(@Nullable Map<String, Object> headers) {
        Instant notBefore = readNotBefore(headers);
        CoalesceWindow window = null;
        Optional<String> coalesce = HeaderValues.strictText(headers, Headers.COALESCE);
        if (coalesce.isPresent()) {
            try {
                window = CoalesceWindow.parseHeader(coalesce.get());
            } catch (IllegalArgumentException e) {
                throw new HeaderValues.Mistyped(Headers.COALESCE, "is invalid: " + e.getMessage());
            }
        }
        int hops = HeaderValues.count(headers, Headers.HOPS, 0);
        Long coalesced = HeaderValues.whole(headers, Headers.COALESCED).orElse(null);
        if (coalesced != null && coalesced < 0) {
            throw new HeaderValues.Mistyped(Headers.COALESCED, "should be a count >= 0 but is " + coalesced);
        }
        return new TaskSchedule(notBefore, window, hops, coalesced);
    }

    private static @Nullable Instant readNotBefore(@Nullable Map<String, Object> headers) {
        Object v = headers == null ? null : headers.get(Headers.NOT_BEFORE);
        if (v == null) {
            return null;
        }
        Instant instant;
        if (v instanceof Date d) {
            instant = d.toInstant();
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            instant = epochMillis(((Number) v).longValue(), v);
        } else if (v instanceof CharSequence || v instanceof com.rabbitmq.client.LongString) {
            String s = v.toString().trim();
            if (!s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9' || c == '-') && s.length() <= 20) {
                try {
                    instant = epochMillis(Long.parseLong(s), s);
                } catch (NumberFormatException e) {
                    throw new HeaderValues.Mistyped(Headers.NOT_BEFORE, "should be epoch milliseconds but is \""
                            + s + "\"");
                }
            } else {
                try {
                    instant = Instant.parse(s);
                } catch (java.time.format.DateTimeParseException e) {
                    throw new HeaderValues.Mistyped(Headers.NOT_BEFORE, "should be epoch milliseconds or an ISO-8601"
                            + " instant but is \"" + Headers.truncate(s, 40) + "\"");
                }
            }
        } else {
            throw new HeaderValues.Mistyped(Headers.NOT_BEFORE, "should be epoch milliseconds (a long) but is a "
                    + v.getClass().getSimpleName());
        }
        if (instant.isBefore(Instant.EPOCH) || instant.isAfter(LATEST_NOT_BEFORE)) {
            throw new HeaderValues.Mistyped(Headers.NOT_BEFORE, "is out of range (1970 to 9999): " + v);
        }
        return instant;
    }

    private static Instant epochMillis(long millis, Object raw) {
        if (millis < 0 || millis > LATEST_NOT_BEFORE.toEpochMilli()) {
            throw new HeaderValues.Mistyped(Headers.NOT_BEFORE, "is out of range (epoch milliseconds from 0 to the"
                    + " end of 9999): " + Headers.truncate(String.valueOf(raw), 40));
        }
        return Instant.ofEpochMilli(millis);
    }
}
