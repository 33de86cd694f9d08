package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The follow-ups one run of a parent asked for, as the coordination store records them before they are published:
 * the children in the order the handler asked for them, and the join (if any) that is published once all of them
 * succeeded. Immutable.
 *
 * @param parentId the parent's message id
 * @param children the follow-ups that are not the join, in order; at most {@link #MAX_CHILDREN_CEILING}
 * @param join the join, or null when the parent asked for none
 * @param retention how long the group's state outlives its last write (see {@link FollowUpStore})
 */
public record GroupPlan(String parentId, List<Child> children, @Nullable JoinTask join, Duration retention) {
    /**
     * The most children one group can hold whatever a worker's own limit says (default 10,000): it bounds the
     * store's memory per parent and the size of the one script call that completes the last child.
     */
    public static final int MAX_CHILDREN_CEILING = 100_000;

    /**
     * One follow-up that the join waits for.
     *
     * @param id its message id
     * @param queue the work queue it was published to
     * @param type its task type
     */
    public record Child(String id, String queue, String type) {
        public Child {
            requireNonNull(id, "id");
            requireNonNull(queue, "queue");
            requireNonNull(type, "type");
            if (id.isBlank() || queue.isBlank() || type.isBlank()) {
                throw new IllegalArgumentException("a follow-up needs an id, a queue and a type");
            }
        }
    }

    public GroupPlan {
        requireNonNull(parentId, "parentId");
        requireNonNull(retention, "retention");
        children = List.copyOf(children);
        if (parentId.isBlank()) {
            throw new IllegalArgumentException("parentId must not be blank");
        }
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("retention must be positive, was " + retention);
        }
        if (children.size() > MAX_CHILDREN_CEILING) {
            throw new FollowUpLimitException("parent " + parentId + " asked for " + children.size()
                    + " follow-ups; one parent can have at most " + MAX_CHILDREN_CEILING);
        }
        Set<String> ids = new HashSet<>();
        for (Child c : children) {
            if (!ids.add(c.id())) {
                throw new IllegalArgumentException("follow-up id " + c.id() + " appears twice in the group of "
                        + parentId);
            }
        }
        if (join != null && ids.contains(join.id())) {
            throw new IllegalArgumentException("the join's id " + join.id() + " is also a child's");
        }
    }

    /**
     * A digest of what identifies the plan (children's ids, queues and types in order, and the join's id, queue and
     * type), so a store can tell a re-run that asked for the same follow-ups from one that asked for others.
     */
    public String fingerprint() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Child c : children) {
                field(sha, c.id());
                field(sha, c.queue());
                field(sha, c.type());
            }
            if (join != null) {
                field(sha, "join");
                field(sha, join.id());
                field(sha, join.queue());
                field(sha, join.type());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256, which every Java platform must provide", e);
        }
    }

    private static void field(MessageDigest sha, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        sha.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
        sha.update((byte) ':');
        sha.update(bytes);
    }
}
