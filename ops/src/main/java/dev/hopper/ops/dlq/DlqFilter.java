package dev.hopper.ops.dlq;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.DurationText;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Which dead letters a dlq command works on. Every criterion that is set must hold (and); an unset one matches
 * everything. Immutable; build with {@link #builder()}.
 *
 * @param ids message ids to select; empty means any
 * @param type the task type ({@code type} property), exactly
 * @param key the entity key ({@code x-hopper-key}), exactly: every dead letter of one entity
 * @param reason the dead reason's wire value ({@code exhausted}, {@code permanent}, ...)
 * @param errorClass the failure's exception class: the fully qualified name, or its simple name
 * @param olderThan dead letters whose {@code x-hopper-failed-at} (else {@code timestamp} property) is more than
 *     this long ago; a dead letter with neither date never matches, so a retention purge never removes what it
 *     cannot date
 * @param group a group id of {@link DeadLetterGroups}
 * @param limit at most this many matching dead letters are selected; {@link #NO_LIMIT} for all
 */
public record DlqFilter(
        Set<String> ids,
        @Nullable String type,
        @Nullable String key,
        @Nullable String reason,
        @Nullable String errorClass,
        @Nullable Duration olderThan,
        @Nullable String group,
        int limit) {

    public static final int NO_LIMIT = Integer.MAX_VALUE;

    /** Selects every dead letter. */
    public static final DlqFilter ALL = builder().build();

    public DlqFilter {
        ids = Set.copyOf(ids);
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, was " + limit);
        }
        if (olderThan != null && olderThan.isNegative()) {
            throw new IllegalArgumentException("older-than must not be negative");
        }
    }

    /** True when {@code letter} meets every criterion, judged at {@code now}. */
    public boolean matches(DeadLetter letter, Instant now) {
        if (!ids.isEmpty() && !ids.contains(letter.messageId())) {
            return false;
        }
        if (type != null && !type.equals(letter.type())) {
            return false;
        }
        if (key != null && !key.equals(letter.key())) {
            return false;
        }
        if (reason != null && !reason.equals(letter.reason())) {
            return false;
        }
        if (errorClass != null && !errorClassMatches(letter.errorClass())) {
            return false;
        }
        if (olderThan != null) {
            Instant failed = letter.failedAt();
            if (failed == null || !failed.isBefore(now.minus(olderThan))) {
                return false;
            }
        }
        return group == null || group.equals(letter.groupId());
    }

    private boolean errorClassMatches(@Nullable String actual) {
        if (actual == null || errorClass == null) {
            return false;
        }
        return actual.equals(errorClass) || actual.substring(actual.lastIndexOf('.') + 1).equals(errorClass);
    }

    /** True when no criterion and no limit is set: every dead letter is selected. */
    public boolean selectsAll() {
        return ids.isEmpty() && type == null && key == null && reason == null && errorClass == null && olderThan == null
                && group == null && limit == NO_LIMIT;
    }

    /** The criteria as {@code key=value} text for logs and messages ({@code all} when none). */
    public String describe() {
        List<String> parts = new ArrayList<>();
        if (!ids.isEmpty()) {
            parts.add("id=" + String.join(",", ids));
        }
        if (type != null) {
            parts.add("type=" + type);
        }
        if (key != null) {
            parts.add("key=" + key);
        }
        if (reason != null) {
            parts.add("reason=" + reason);
        }
        if (errorClass != null) {
            parts.add("error-class=" + errorClass);
        }
        if (olderThan != null) {
            parts.add("older-than=" + DurationText.format(olderThan));
        }
        if (group != null) {
            parts.add("group=" + group);
        }
        if (limit != NO_LIMIT) {
            parts.add("limit=" + limit);
        }
        return parts.isEmpty() ? "all" : String.join(" ", parts);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link DlqFilter}. Not thread-safe. */
    public static final class Builder {
        private final Set<String> ids = new LinkedHashSet<>();
        private @Nullable String type;
        private @Nullable String key;
        private @Nullable String reason;
        private @Nullable String errorClass;
        private @Nullable Duration olderThan;
        private @Nullable String group;
        private int limit = NO_LIMIT;

        private Builder() {}

        public Builder id(String id) {
            ids.add(requireNonNull(id, "id"));
            return this;
        }

        public Builder ids(Iterable<String> values) {
            values.forEach(this::id);
            return this;
        }

        public Builder type(@Nullable String value) {
            this.type = value;
            return this;
        }

        public Builder key(@Nullable String value) {
            this.key = value;
            return this;
        }

        public Builder reason(@Nullable String value) {
            this.reason = value;
            return this;
        }

        public Builder errorClass(@Nullable String value) {
            this.errorClass = value;
            return this;
        }

        public Builder olderThan(@Nullable Duration value) {
            this.olderThan = value;
            return this;
        }

        public Builder group(@Nullable String value) {
            this.group = value;
            return this;
        }

        public Builder limit(int value) {
            this.limit = value;
            return this;
        }

        public DlqFilter build() {
            return new DlqFilter(ids, type, key, reason, errorClass, olderThan, group, limit);
        }
    }
}
