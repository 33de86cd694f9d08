package dev.hopper.topology;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import org.jspecify.annotations.Nullable;

/**
 * Fast exact forms of {@link Instant#toString()} and {@link Instant#parse} for the one shape Hopper's writers
 * produce, {@code yyyy-MM-ddTHH:mm:ss[.fff|.ffffff|.fffffffff]Z}; anything else goes to the JDK. The time headers
 * stay ISO-8601 strings on the wire (design.md: readers of the previous release accept only those, so writers
 * switch to epoch milliseconds a release after readers accept both), and the {@code java.time} formatter was a
 * fifth of a worker's Java time per task in a profile. Stateless and thread-safe.
 */
final class IsoInstants {
    private IsoInstants() {}

    /** 0000-01-01T00:00:00Z and the first second after 9999-12-31: the range of four-digit years. */
    private static final long MIN_SECOND = LocalDate.of(0, 1, 1).toEpochDay() * 86_400L;
    private static final long MAX_SECOND = LocalDate.of(10_000, 1, 1).toEpochDay() * 86_400L;

    /** Exactly {@code instant.toString()}. */
    static String format(Instant instant) {
        long s = instant.getEpochSecond();
        if (s < MIN_SECOND || s >= MAX_SECOND) {
            return instant.toString();
        }
        LocalDateTime t = LocalDateTime.ofEpochSecond(s, 0, ZoneOffset.UTC);
        int nano = instant.getNano();
        char[] c = new char[30];
        digits(c, 0, t.getYear(), 4);
        c[4] = '-';
        digits(c, 5, t.getMonthValue(), 2);
        c[7] = '-';
        digits(c, 8, t.getDayOfMonth(), 2);
        c[10] = 'T';
        digits(c, 11, t.getHour(), 2);
        c[13] = ':';
        digits(c, 14, t.getMinute(), 2);
        c[16] = ':';
        digits(c, 17, t.getSecond(), 2);
        int n = 19;
        if (nano != 0) {
            // ISO_INSTANT prints the fraction in groups of three digits, as few groups as the value needs.
            c[n++] = '.';
            if (nano % 1_000_000 == 0) {
                digits(c, n, nano / 1_000_000, 3);
                n += 3;
            } else if (nano % 1_000 == 0) {
                digits(c, n, nano / 1_000, 6);
                n += 6;
            } else {
                digits(c, n, nano, 9);
                n += 9;
            }
        }
        c[n++] = 'Z';
        return new String(c, 0, n);
    }

    private static void digits(char[] c, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            c[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }

    /**
     * The instant {@code text} names when it has the canonical shape and valid fields; null otherwise (the caller
     * then asks {@link Instant#parse}, which accepts more spellings and says what is wrong). Never throws.
     */
    static @Nullable Instant parse(CharSequence text) {
        int len = text.length();
        if (len < 20 || len > 30 || text.charAt(len - 1) != 'Z' || text.charAt(4) != '-' || text.charAt(7) != '-'
                || text.charAt(10) != 'T' || text.charAt(13) != ':' || text.charAt(16) != ':') {
            return null;
        }
        int year = num(text, 0, 4);
        int month = num(text, 5, 2);
        int day = num(text, 8, 2);
        int hour = num(text, 11, 2);
        int minute = num(text, 14, 2);
        int second = num(text, 17, 2);
        if ((year | month | day | hour | minute | second) < 0 || month < 1 || month > 12 || day < 1
                || day > LocalDate.of(year, month, 1).lengthOfMonth() || hour > 23 || minute > 59 || second > 59) {
            return null; // includes a leap second (":60") and "24:00", which the JDK resolves its own way
        }
        int nano = 0;
        if (len > 20) {
            int fraction = len - 21; // between '.' and 'Z'
            if (text.charAt(19) != '.' || fraction < 1 || fraction > 9) {
                return null;
            }
            nano = num(text, 20, fraction);
            if (nano < 0) {
                return null;
            }
            for (int i = fraction; i < 9; i++) {
                nano *= 10;
            }
        }
        long epochSecond = LocalDate.of(year, month, day).toEpochDay() * 86_400L + hour * 3_600L + minute * 60L + second;
        return Instant.ofEpochSecond(epochSecond, nano);
    }

    /** The decimal number of {@code width} ASCII digits at {@code at}, or -1. */
    private static int num(CharSequence text, int at, int width) {
        int v = 0;
        for (int i = at; i < at + width; i++) {
            char ch = text.charAt(i);
            if (ch < '0' || ch > '9') {
                return -1;
            }
            v = v * 10 + (ch - '0');
        }
        return v;
    }
}
