package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The message ids of a parent's follow-ups: a name-based UUID (RFC 4122 version 3) of the parent's message id and
 * the follow-up's index in the order the handler asked for them. Pure and deterministic: a parent that runs twice
 * (it crashed after publishing its follow-ups, before its ack) asks for the same ids again, so the copies it
 * publishes are recognised by their done-markers and the coordination store counts each child once. A parent has at
 * most one join, whose id is derived from the parent's id alone ({@link #join}), so it is known as soon as it is
 * asked for. Thread-safe.
 */
public final class FollowUpIds {
    /** Keeps these names apart from any other name-based UUID a user might derive from the same strings. */
    private static final String NAMESPACE = "hopper/follow-up/";

    private FollowUpIds() {}

    /** The message id of the join of {@code parentId}. */
    public static String join(String parentId) {
        requireNonNull(parentId, "parentId");
        if (parentId.isBlank()) {
            throw new IllegalArgumentException("parentId must not be blank");
        }
        String name = NAMESPACE + parentId.length() + ":" + parentId + "/join";
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }

    /**
     * The message id of follow-up number {@code index} (0-based) of {@code parentId}.
     *
     * @throws IllegalArgumentException when {@code index} is negative or the parent id is blank
     */
    public static String of(String parentId, int index) {
        requireNonNull(parentId, "parentId");
        if (parentId.isBlank()) {
            throw new IllegalArgumentException("parentId must not be blank");
        }
        if (index < 0) {
            throw new IllegalArgumentException("follow-up index must be >= 0, was " + index);
        }
        // The length prefix makes the name unambiguous whatever characters a foreign parent id contains.
        String name = NAMESPACE + parentId.length() + ":" + parentId + "/" + index;
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
