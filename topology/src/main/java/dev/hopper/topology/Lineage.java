package dev.hopper.topology;

import com.rabbitmq.client.LongString;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Where a task sits in a task graph (design.md, "Follow-up tasks and joins"): the parent whose handler asked for it
 * ({@link Headers#PARENT}) and whether it is that parent's join ({@link Headers#JOIN}). A task published by a
 * producer has {@link #NONE}. Immutable.
 *
 * @param parentId the parent's message id, or null for a task that is nobody's follow-up
 * @param join true for the follow-up that runs once all of its siblings succeeded; needs a parent
 */
public record Lineage(@Nullable String parentId, boolean join) {
    /** A task that is nobody's follow-up. */
    public static final Lineage NONE = new Lineage(null, false);

    /** Longest parent id accepted: AMQP message ids Hopper writes are UUIDs, 255 leaves room for foreign ones. */
    public static final int MAX_PARENT_ID_CHARS = 255;

    public Lineage {
        if (parentId != null && (parentId.isBlank() || parentId.length() > MAX_PARENT_ID_CHARS)) {
            throw new IllegalArgumentException("a parent id must be 1.." + MAX_PARENT_ID_CHARS + " characters");
        }
        if (join && parentId == null) {
            throw new IllegalArgumentException("a join needs a parent");
        }
    }

    /** A follow-up of {@code parentId} that is not a join. */
    public static Lineage childOf(String parentId) {
        return new Lineage(java.util.Objects.requireNonNull(parentId, "parentId"), false);
    }

    /** The join of {@code parentId}. */
    public static Lineage joinOf(String parentId) {
        return new Lineage(java.util.Objects.requireNonNull(parentId, "parentId"), true);
    }

    /** The parent's message id, when this task is a follow-up. */
    public Optional<String> parent() {
        return Optional.ofNullable(parentId);
    }

    /** True when the task is a follow-up (a join included). */
    public boolean hasParent() {
        return parentId != null;
    }

    /** The headers that carry this lineage (none for {@link #NONE}); a fresh mutable map. */
    public Map<String, Object> headers() {
        Map<String, Object> h = new LinkedHashMap<>();
        if (parentId != null) {
            h.put(Headers.PARENT, parentId);
        }
        if (join) {
            h.put(Headers.JOIN, true);
        }
        return h;
    }

    /**
     * Reads the lineage headers of a delivery. Absent headers give {@link #NONE}; a join flag of {@code false}
     * is the same as none.
     *
     * @throws HeaderValues.Mistyped when {@link Headers#PARENT} is not a non-blank string of at most
     *     {@value #MAX_PARENT_ID_CHARS} characters, {@link Headers#JOIN} is neither a boolean nor
     *     {@code "true"}/{@code "false"}, or a join has no parent
     */
    public static Lineage read(@Nullable Map<String, Object> headers) {
        String parent = HeaderValues.strictText(headers, Headers.PARENT).orElse(null);
        if (parent != null && (parent.isBlank() || parent.length() > MAX_PARENT_ID_CHARS)) {
            throw new HeaderValues.Mistyped(Headers.PARENT, "should be a message id of 1.." + MAX_PARENT_ID_CHARS
                    + " characters but has " + parent.length());
        }
        boolean join = flag(headers == null ? null : headers.get(Headers.JOIN));
        if (join && parent == null) {
            throw new HeaderValues.Mistyped(Headers.JOIN, "is set but " + Headers.PARENT
                    + " is missing (a join is the follow-up of a parent)");
        }
        return parent == null ? NONE : new Lineage(parent, join);
    }

    private static boolean flag(@Nullable Object v) {
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof LongString || v instanceof String) {
            String s = v.toString().trim();
            if (s.equalsIgnoreCase("true")) {
                return true;
            }
            if (s.equalsIgnoreCase("false")) {
                return false;
            }
            throw new HeaderValues.Mistyped(Headers.JOIN, "should be true or false but is \""
                    + Headers.truncate(s, 40) + "\"");
        }
        throw new HeaderValues.Mistyped(Headers.JOIN, "should be a boolean but is a " + v.getClass().getSimpleName());
    }
}
