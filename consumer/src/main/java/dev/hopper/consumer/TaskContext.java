package dev.hopper.consumer;

import dev.hopper.coordination.LockResult;
import dev.hopper.topology.TaskEnvelope;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * What a handler knows about the task it runs. One instance per run; the accessors are safe to call from any
 * thread; {@link #isCancelled()} and {@link #leaseLost()} change while the handler runs.
 */
public final class TaskContext {
    private final String queue;
    private final TaskEnvelope envelope;
    private final Map<String, Object> headers;
    private final Instant startedAt;
    private final Instant deadline;
    private final OptionalLong fencingToken;
    private final OptionalLong currentRevision;
    private final AtomicBoolean leaseLost = new AtomicBoolean();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final @Nullable FollowUpRequests followUps;

    /** @param lock the key's lock this run holds, null for a task without a key */
    TaskContext(String queue, TaskEnvelope envelope, Map<String, Object> headers, Instant startedAt, Instant deadline,
            LockResult.@Nullable Acquired lock) {
        this(queue, envelope, headers, startedAt, deadline, lock, null);
    }

    /**
     * @param lock the key's lock this run holds (or the task's claim, for a follow-up without a key), null for none
     * @param followUps collects this run's follow-ups, join and result; null where a run cannot have any
     */
    TaskContext(String queue, TaskEnvelope envelope, Map<String, Object> headers, Instant startedAt, Instant deadline,
            LockResult.@Nullable Acquired lock, @Nullable FollowUpRequests followUps) {
        this.followUps = followUps;
        this.queue = queue;
        this.envelope = envelope;
        this.headers = Collections.unmodifiableMap(headers);
        this.startedAt = startedAt;
        this.deadline = deadline;
        this.fencingToken = lock == null ? OptionalLong.empty() : OptionalLong.of(lock.fencingToken());
        this.currentRevision = lock == null ? OptionalLong.empty() : OptionalLong.of(lock.currentRevision());
    }

    public String queue() {
        return queue;
    }

    /** Stable across retries and replays. */
    public String messageId() {
        return envelope.messageId();
    }

    public String type() {
        return envelope.type();
    }

    /** The entity key for lock and revision, if the task has one. */
    public Optional<String> key() {
        return envelope.keyValue();
    }

    /** The revision the task was published against, if any. */
    public OptionalLong revision() {
        return envelope.revision() == null ? OptionalLong.empty() : OptionalLong.of(envelope.revision());
    }

    /** The key's revision when this run took the lock (above {@link #revision()} under policy refresh). */
    public OptionalLong currentRevision() {
        return currentRevision;
    }

    /** How many runs came before this one (0 on the first run). */
    public int attempt() {
        return envelope.attempt();
    }

    /** When the first run started. */
    public Instant firstAttemptAt() {
        return envelope.firstAttemptAt() == null ? startedAt : envelope.firstAttemptAt();
    }

    public Instant publishedAt() {
        return envelope.publishedAt();
    }

    public Instant startedAt() {
        return startedAt;
    }

    /** When the handler timeout interrupts this run. */
    public Instant deadline() {
        return deadline;
    }

    /**
     * For keyed tasks: a number that only grows for the key with each lock acquisition. Downstream stores should
     * reject writes carrying a token lower than one they have seen.
     */
    public OptionalLong fencingToken() {
        return fencingToken;
    }

    /** True once the key's lock was lost while running (the thread is interrupted too). */
    public boolean leaseLost() {
        return leaseLost.get();
    }

    /** True once this run should stop: timed out, lock lost, or the worker is shutting down past its drain. */
    public boolean isCancelled() {
        return cancelled.get();
    }

    /** The message's headers, read-only (values as amqp-client delivers them). */
    public Map<String, Object> headers() {
        return headers;
    }

    // ---- follow-ups and joins (design.md, "Follow-up tasks and joins") ----

    /**
     * Asks for {@code task} to be published as a follow-up of this task once this handler has succeeded: after the
     * handler returns, before this task is acked, confirmed by the broker. If the handler fails, nothing is
     * published; its retry asks again. The follow-up's message id is derived from this task's id and the order of the
     * requests (whatever id {@code task} had is replaced), so a re-run of this task publishes the same ids and a
     * follow-up that already ran is not run again. Ask for the same follow-ups, in the same order, on every run.
     *
     * @return the follow-up's message id
     * @throws dev.hopper.coordination.FollowUpLimitException past the worker's limit of follow-ups per task (default
     *     10,000); a handler that lets it escape fails permanently
     * @throws IllegalStateException after the handler returned
     */
    public String followUp(dev.hopper.publisher.Task task) {
        return requests().followUp(task);
    }

    /**
     * Asks for {@code task} to run once every follow-up of this task (asked for with {@link #followUp}) has
     * succeeded: the join. Its payload must be a JSON object; a field {@code results} is added to it with what each
     * follow-up returned ({@link #result}), in the order they were asked for ({@code null} for one that returned
     * nothing). A follow-up that is dead-lettered holds the join until it is replayed and succeeds. The join is
     * published exactly once (its id is derived from this task's), by the worker that completes the last follow-up;
     * with no follow-ups it is published at once. At most one join per task.
     *
     * @return the join's message id
     * @throws IllegalArgumentException when its payload is not a JSON object, or already has {@code results}
     * @throws dev.hopper.coordination.FollowUpLimitException when its payload is over 64 KiB
     * @throws IllegalStateException for a second join, or after the handler returned
     */
    public String join(dev.hopper.publisher.Task task) {
        return requests().join(task);
    }

    /**
     * What this task hands to its parent's join (in the join's {@code results}), as JSON text of at most 64 KiB;
     * the last call wins. Ignored for a task that is nobody's follow-up.
     *
     * @throws IllegalArgumentException when {@code json} is not JSON
     * @throws dev.hopper.coordination.FollowUpLimitException when it is over 64 KiB
     * @throws IllegalStateException after the handler returned
     */
    public void result(String json) {
        requests().result(json);
    }

    /** The message id of the task whose follow-up this is, if it is one. */
    public Optional<String> parentId() {
        return envelope.lineage().parent();
    }

    /** True when this task is its parent's join (its payload then has the children's {@code results}). */
    public boolean isJoin() {
        return envelope.lineage().join();
    }

    private FollowUpRequests requests() {
        FollowUpRequests r = followUps;
        if (r == null) {
            throw new IllegalStateException("this task context cannot take follow-ups");
        }
        return r;
    }

    // ---- end of follow-ups and joins ----

    void markLeaseLost() {
        leaseLost.set(true);
        cancelled.set(true);
    }

    void cancel() {
        cancelled.set(true);
    }
}
