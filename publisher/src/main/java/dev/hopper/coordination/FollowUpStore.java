package dev.hopper.coordination;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The bookkeeping of follow-up tasks and joins (design.md, "Follow-up tasks and joins"): for each parent that asked
 * for follow-ups, a <em>group</em> with its children (in the order the handler asked for them), the children that
 * are done and the result each returned, the children that are dead, and the join that is published once every
 * child is done. Children get done-markers like any completed task ({@link CoordinationStore#isCompleted}), written
 * in the same atomic step that counts them. Implementations are thread-safe; every method is one atomic step and
 * may throw {@link StoreUnavailableException}, like the rest of the {@link CoordinationStore}.
 *
 * <h2>The protocol (what a worker does, and in which order)</h2>
 * <ol>
 *   <li><b>Parent succeeded with follow-ups:</b> {@link #openGroup} (records the plan; a re-run of the same parent
 *       finds it {@link GroupOpening#ALREADY_OPEN}), then publishes every child with its deterministic id
 *       ({@link dev.hopper.topology.FollowUpIds}), each confirmed, then writes the parent's done-marker, then acks
 *       the parent. A parent that failed never reaches step 1: it publishes nothing.</li>
 *   <li><b>Child succeeded:</b> {@link #completeChild} with its result: one atomic step writes the child's
 *       done-marker, counts it (once per child id, however often it is called) and, if it was the last, answers
 *       {@link ChildCompletion.JoinDue}. The worker then publishes the join (confirmed, with the join's own
 *       deterministic id and its payload plus the results), then calls {@link #joinPublished}, then acks the
 *       child.</li>
 *   <li><b>A delivery of a task with a parent whose done-marker exists</b> (a redelivery after a crash, or a second
 *       copy published by a re-run parent): no handler run; {@link #completeChild} again (it counts nothing new), and
 *       if it answers {@link ChildCompletion.JoinDue}, publish the join as in step 2; then ack.</li>
 *   <li><b>A child (or the join) is dead-lettered:</b> {@link #childDead} records it, so {@code hopper group show}
 *       can name it without reading the dead-letter queue. It holds the join: the group stays one short until the
 *       child is replayed and succeeds, which clears the record and counts it.</li>
 * </ol>
 *
 * <h2>Why a crash cannot lose a join, and a re-run cannot fire it twice</h2>
 * The join is published <em>before</em> the last child is acked, and {@link #joinPublished} is recorded only after
 * the broker confirmed it. So wherever the last child's worker dies:
 * <ul>
 *   <li>before {@link #completeChild}: the child is redelivered unacked and runs again (its handler's effect may
 *       repeat, as for any task killed mid-run); then step 2 happens on that run;</li>
 *   <li>after {@link #completeChild}, before the join is confirmed: the child is redelivered; its done-marker sends
 *       it down step 3, where {@link #completeChild} answers {@link ChildCompletion.JoinDue} again because the join
 *       was not recorded as published, and that worker publishes it. Not lost;</li>
 *   <li>after the confirm, before {@link #joinPublished} or before the ack: step 3 publishes the join a second time.
 *       Both copies carry the same message id, and the join is a task with a parent: it has a done-marker, and a
 *       worker runs a task with a parent only while holding that task's claim (its key's lock, or a lock on its
 *       message id when it has no key) and only if its done-marker is absent once the claim is held. The copy that
 *       comes second is acked as a duplicate, so the join's handler runs once to success;</li>
 *   <li>after {@link #joinPublished}: a redelivered child is counted as a duplicate and answered
 *       {@link ChildCompletion.Counted}; nothing is published.</li>
 * </ul>
 * Two children finishing at the same time cannot both be "last": {@link #completeChild} is one atomic step, so
 * exactly one call sees the count reach the total. A parent that runs twice opens the same group (the plan's
 * ids are derived from the parent's id) and publishes the same children again; children already done are acked as
 * duplicates by their done-markers, and a child counted twice counts once.
 *
 * <p>What this needs: the group must outlive the graph (see below), and done-markers must outlive any copy of a
 * task in flight (the coordination {@code done-marker-ttl}, one day by default). With the in-memory store all of
 * this holds within one process only: a second process neither sees the group nor the done-markers.
 *
 * <h2>Bounds and expiry</h2>
 * <ul>
 *   <li>children per parent: the worker's limit (default {@value #DEFAULT_MAX_CHILDREN}), never more than
 *       {@link GroupPlan#MAX_CHILDREN_CEILING};</li>
 *   <li>one result: {@value #MAX_RESULT_BYTES} bytes (UTF-8); the join's own payload:
 *       {@value #MAX_JOIN_PAYLOAD_BYTES} bytes; all results of one group together: {@value #MAX_GROUP_RESULT_BYTES}
 *       bytes (the join carries them all in one message, so its queue's {@code max-body-bytes} must admit them).
 *       Over a bound: {@link FollowUpLimitException}, and nothing is stored;</li>
 *   <li>a group's state expires on its own, {@link GroupPlan#retention()} after its last write (default
 *       {@link #DEFAULT_RETENTION}): a group whose child stays dead longer than that is forgotten, and replaying the
 *       child afterwards runs it but fires no join ({@link ChildCompletion.Untracked}). Keep the retention above
 *       the dead-letter queues' retention if joins must survive a late replay. So one group costs at most its
 *       children's ids, queues and types, the results bound and the join's payload, for at most the retention after
 *       the graph's last step.</li>
 * </ul>
 */
public interface FollowUpStore {
    /** Largest result one child may store for its join. */
    int MAX_RESULT_BYTES = 64 * 1024;
    /** Largest payload a join may have before the results are added. */
    int MAX_JOIN_PAYLOAD_BYTES = 64 * 1024;
    /** Largest total of all results of one group (the join carries them in one message). */
    long MAX_GROUP_RESULT_BYTES = 8L * 1024 * 1024;
    /** Children per parent when the worker is not configured otherwise. */
    int DEFAULT_MAX_CHILDREN = 10_000;
    /** How long a group's state outlives its last write when the worker is not configured otherwise. */
    Duration DEFAULT_RETENTION = Duration.ofDays(7);
    /** Prefix of the lock names {@link #claimKey} makes; no entity key should start with it. */
    String CLAIM_PREFIX = "hopper.claim/";

    /**
     * The lock name under which a follow-up without a key is claimed while it runs ({@link
     * CoordinationStore#checkAndLock} with this as the key), so two copies of it never run at once. Claims expire
     * with their lease like any lock; the Redis store keeps their fencing-token counters for an hour only.
     */
    static String claimKey(String messageId) {
        return CLAIM_PREFIX + messageId;
    }

    /**
     * Records a parent's plan, before its follow-ups are published. A plan with a join and no children records the
     * join as published at once: there is nothing to wait for, and the parent publishes it with its follow-ups (with
     * empty results). Idempotent: a re-run that asks for the same
     * follow-ups changes nothing; one that asks for others keeps the first plan ({@link GroupOpening#CONFLICT}).
     */
    GroupOpening openGroup(GroupPlan plan);

    /**
     * In one atomic step: writes {@code childId}'s done-marker for {@code doneTtl}, counts the child in its parent's
     * group with {@code result} (once per child id: a second call counts nothing and keeps the first result), clears
     * a dead record of it, and says whether the join is now due. Called with the join's own id, it records the join
     * as done.
     *
     * @param result the child's result as JSON text (checked by the caller), or null for none
     * @throws FollowUpLimitException when the result is over {@link #MAX_RESULT_BYTES}, or would take the group's
     *     results over {@link #MAX_GROUP_RESULT_BYTES}; nothing is written then, the done-marker included
     */
    ChildCompletion completeChild(String parentId, String childId, @Nullable String result, Duration doneTtl);

    /** Records that the join of {@code parentId} was published and confirmed; later completions answer counted. */
    void joinPublished(String parentId);

    /**
     * Records that {@code childId} (a child of {@code parentId}, or its join) was dead-lettered with {@code reason}
     * (a {@link dev.hopper.topology.DeadReason} wire value). Ignored for a child already done and for an unknown
     * group or child.
     */
    void childDead(String parentId, String childId, String reason);

    /** The group of {@code parentId}, or empty when there is none (never opened, or expired). */
    Optional<GroupView> group(String parentId);

    /**
     * Checks a result's size against {@link #MAX_RESULT_BYTES}; for handlers to fail early with a clear message.
     *
     * @throws FollowUpLimitException naming the size and the bound
     */
    static void checkResultSize(@Nullable String result) {
        if (result == null) {
            return;
        }
        // Cheap pre-check: a UTF-8 encoding has at least as many bytes as chars and at most three per char.
        if (result.length() <= MAX_RESULT_BYTES / 3) {
            return;
        }
        int bytes = result.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_RESULT_BYTES) {
            throw new FollowUpLimitException("a task's result has " + bytes + " bytes, over the limit of "
                    + MAX_RESULT_BYTES + " bytes: the store keeps it until the join runs; pass large data by "
                    + "reference (a URL or a key) instead");
        }
    }
}
