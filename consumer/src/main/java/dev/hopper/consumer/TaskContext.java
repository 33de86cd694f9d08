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

    /** @param lock the key's lock this run holds, null for a task without a key */
    TaskContext(String queue, TaskEnvelope envelope, Map<String, Object> headers, Instant startedAt, Instant deadline,
            LockResult.@Nullable Acquired lock) {
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

    void markLeaseLost() {
        leaseLost.set(true);
        cancelled.set(true);
    }

    void cancel() {
        cancelled.set(true);
    }
}
