package dev.hopper.ops.dlq;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Groups dead letters by what killed them: dead reason, error class and top stack frame (the first
 * {@code at ...} line of {@code x-hopper-error-stack}). The way an operator finds one bug's victims, fixes the
 * bug and replays just that group. Not thread-safe: feed it from one thread.
 */
public final class DeadLetterGroups {

    /**
     * One group.
     *
     * @param id a short stable id: the first 8 hex digits of SHA-256 over reason, error class and top frame
     */
    public record Group(String id, @Nullable String reason, @Nullable String errorClass, @Nullable String topFrame,
            long count, @Nullable Instant firstFailedAt, @Nullable Instant lastFailedAt) {}

    private final Map<String, Group> groups = new LinkedHashMap<>();

    /** Counts {@code letter} in its group. */
    public void add(DeadLetter letter) {
        String id = letter.groupId();
        Instant at = letter.failedAt();
        Group g = groups.get(id);
        if (g == null) {
            groups.put(id, new Group(id, letter.reason(), letter.errorClass(), letter.topFrame(), 1, at, at));
        } else {
            groups.put(id, new Group(id, g.reason(), g.errorClass(), g.topFrame(), g.count() + 1,
                    min(g.firstFailedAt(), at), max(g.lastFailedAt(), at)));
        }
    }

    /** The groups, largest first (ties in order of first appearance). */
    public List<Group> groups() {
        List<Group> out = new ArrayList<>(groups.values());
        out.sort(Comparator.comparingLong(Group::count).reversed());
        return out;
    }

    /**
     * The group id for these three parts: the first 8 hex digits of SHA-256 over them, joined with newlines
     * (absent parts as empty strings). Stable across runs, hosts and versions.
     */
    public static String groupId(@Nullable String reason, @Nullable String errorClass, @Nullable String topFrame) {
        String key = nz(reason) + "\n" + nz(errorClass) + "\n" + nz(topFrame);
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static String nz(@Nullable String s) {
        return s == null ? "" : s;
    }

    private static @Nullable Instant min(@Nullable Instant a, @Nullable Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isBefore(b) ? a : b;
    }

    private static @Nullable Instant max(@Nullable Instant a, @Nullable Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }
}
