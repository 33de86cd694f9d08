package dev.hopper.ops.console;

import dev.hopper.ops.dlq.DlqFilter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The console's filters over a dead queue: each null criterion selects everything. The same criteria as
 * {@code hopper dlq}'s {@link DlqFilter} (reason, type, error class, older-than, group), plus the entity key.
 *
 * @param errorClass full or simple class name, as {@code --error-class}
 * @param olderThan failed more than this long ago, as {@code --older-than}
 */
record LetterQuery(@Nullable String reason, @Nullable String type, @Nullable String errorClass,
        @Nullable String key, @Nullable Duration olderThan, @Nullable String group) {

    static final LetterQuery ALL = new LetterQuery(null, null, null, null, null, null);

    LetterQuery {
        reason = blankToNull(reason);
        type = blankToNull(type);
        errorClass = blankToNull(errorClass);
        key = blankToNull(key);
        group = blankToNull(group);
        if (olderThan != null && olderThan.isNegative()) {
            throw new IllegalArgumentException("olderThan must not be negative");
        }
    }

    boolean matches(IndexedLetter l, Instant now) {
        if (reason != null && !reason.equals(l.reason())) {
            return false;
        }
        if (type != null && !type.equals(l.type())) {
            return false;
        }
        if (errorClass != null && !classMatches(l.errorClass())) {
            return false;
        }
        if (key != null && !key.equals(l.key())) {
            return false;
        }
        if (group != null && !group.equals(l.group())) {
            return false;
        }
        if (olderThan != null) {
            Instant failed = l.failedAt();
            return failed != null && failed.isBefore(now.minus(olderThan));
        }
        return true;
    }

    private boolean classMatches(@Nullable String actual) {
        if (actual == null || errorClass == null) {
            return false;
        }
        return actual.equals(errorClass) || actual.substring(actual.lastIndexOf('.') + 1).equals(errorClass);
    }

    /**
     * The same selection as {@code hopper dlq}'s filter, for replay and purge on the real queue. The key has no
     * {@code dlq} criterion, so a query with a key becomes the ids the index found for it ({@code keyIds}).
     */
    DlqFilter toDlqFilter(List<String> keyIds) {
        DlqFilter.Builder b = DlqFilter.builder().reason(reason).type(type).errorClass(errorClass)
                .olderThan(olderThan).group(group);
        if (key != null) {
            b.ids(keyIds);
        }
        return b.build();
    }

    boolean selectsAll() {
        return reason == null && type == null && errorClass == null && key == null && olderThan == null
                && group == null;
    }

    String describe() {
        List<String> parts = new ArrayList<>();
        if (key != null) {
            parts.add("key=" + key);
        }
        String rest = toDlqFilter(List.of()).describe();
        if (!rest.equals("all") || parts.isEmpty()) {
            parts.add(rest);
        }
        return String.join(" ", parts);
    }

    private static @Nullable String blankToNull(@Nullable String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
