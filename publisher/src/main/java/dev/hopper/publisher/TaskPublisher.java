package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.coordination.CoalesceKey;
import dev.hopper.coordination.CoalesceSchedule;
import dev.hopper.coordination.CoalescingStore;
import dev.hopper.coordination.RevisionStore;
import dev.hopper.topology.CoalesceWindow;
import dev.hopper.topology.DelayRoute;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.TaskJson;
import dev.hopper.topology.TaskSchedule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Publishes tasks so that a "yes" means the broker has them on disk. Every task goes to the
 * {@code hopper.tasks} exchange with its queue as routing key, persistent ({@code delivery_mode=2}),
 * {@code mandatory}, with the properties and {@code x-hopper-*} headers of design.md, and counts as published only
 * when the broker confirms it.
 *
 * <p><b>Outcomes.</b> A publish succeeds with a {@link PublishReceipt} on the broker's confirm. It fails with
 * {@link PublishException} when the broker nacks it ({@code NACKED}), no queue matches ({@code UNROUTABLE}: the
 * queue does not exist; a publish is never silently dropped), no confirm arrives within the confirm timeout
 * ({@code TIMEOUT}), the window of unconfirmed messages stays full or the broker blocks publishing (memory or
 * disk alarm) for longer than the window wait ({@code WINDOW_FULL}, {@code BLOCKED}), the revision store cannot
 * give a keyed task its revision ({@code REVISION_UNAVAILABLE}), or the publisher is closed ({@code CLOSED}). Back-pressure: at most {@code windowSize} messages are unconfirmed at once; a publish beyond
 * that waits (up to the window wait) instead of piling messages up in memory.
 *
 * <p><b>Connection loss.</b> When the connection (or the channel) drops, every unconfirmed publish fails with
 * {@code CONNECTION_LOST} and {@link PublishException#mayHaveArrived()} {@code true}: the broker may or may not
 * have stored it. The publisher does <em>not</em> republish anything by itself; retrying is the caller's choice
 * and gives at-least-once delivery: a retried task may then reach the queue twice, with the same message id
 * (republish the same {@link Task} so the id stays the same). While the connection recovers (automatically, every {@link BrokerConfig#recoveryInterval()}), publishes
 * fail at once with {@code CONNECTION_LOST}; once it is back, publishing resumes on a fresh channel.
 *
 * <p><b>Revisions.</b> A task with a key and no explicit revision is stamped with the key's current revision from
 * the {@link RevisionStore}, if one is configured; without a store such a task carries no revision header. A task
 * with an explicit revision keeps it. {@link #publishAll} and {@link #publishAllAsync} read the revisions of a
 * whole window of tasks in one store call ({@code RevisionStamper}).
 *
 * <p><b>Delayed tasks.</b> A task with a {@link Task#delay()} or {@link Task#notBefore()} in the future carries
 * {@code x-hopper-not-before} and goes straight into its queue's delay tier queue {@code Q.retry.<tier>}, the
 * largest tier that fits the time left ({@link DelayRoute}); the tier's TTL brings it back to {@code Q}, where a
 * worker hops it again while it is early. The publisher needs the queue's tiers ({@link Builder#queues}); a delay
 * needing more than {@link DelayRoute#MAX_PLANNED_HOPS} hops fails with {@code NOT_SCHEDULABLE}, nothing sent. A
 * not-before in the past publishes to {@code Q} at once.
 *
 * <p><b>Coalesced tasks.</b> A task with {@link Task#coalesce()} first asks the coordination store
 * ({@link Builder#coalescingStore}) to schedule or absorb it: it is sent at once, sent as a delayed task, or not sent
 * at all because a pending run absorbed its payload (the receipt says {@link PublishReceipt#absorbed()}). If the
 * store answered "send" and the send then fails, publish the same task again (same message id): the store answers
 * the same, and a pending run whose message never arrived is taken over by the next trigger after a while
 * ({@link CoalescingStore#staleAfter}).
 *
 * <p><b>Threading.</b> Thread-safe: any number of threads may publish through one instance. Publishing is
 * serialized on one confirm channel (which sustains the broker's throughput for one connection); confirms are
 * handled on the connection's thread and futures completed on a dedicated thread: keep stages chained on them
 * short and never block in them on another publish of this publisher.
 */
public final class TaskPublisher implements AutoCloseable {
    private final BrokerConnection connection;
    private final boolean ownsConnection;
    private final ConfirmedChannel channel;
    private final Clock clock;
    private final @Nullable RevisionStore revisions;
    private final ObjectMapper mapper;
    private final Duration publishTimeout;
    private final @Nullable PublisherMetrics metrics;
    private final Map<String, List<DelayTier>> tiers;
    private final @Nullable CoalescingStore coalescing;

    private TaskPublisher(Builder b, BrokerConnection connection, boolean ownsConnection) {
        this.connection = connection;
        this.ownsConnection = ownsConnection;
        this.clock = b.clock;
        this.revisions = b.revisions;
        this.mapper = b.mapper == null ? TaskJson.newMapper() : b.mapper;
        this.publishTimeout = b.publishTimeout;
        this.tiers = Map.copyOf(b.tiers);
        this.coalescing = b.coalescing;
        this.channel = new ConfirmedChannel(connection, b.windowSize, b.windowWait, b.confirmTimeout);
        if (b.meterRegistry != null) {
            this.metrics = new PublisherMetrics();
            metrics.bindTo(b.meterRegistry);
        } else {
            this.metrics = null;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A task builder that serializes payloads with this publisher's object mapper. */
    public Task.Builder newTask() {
        return Task.builder(mapper);
    }

    /**
     * Publishes one task. Returns once the message is handed to the broker (waiting only while the window is full
     * or the broker blocks publishing); the future completes on the broker's confirm.
     *
     * @return a receipt on confirm; fails with {@link PublishException} (reason {@code REVISION_UNAVAILABLE},
     *     nothing sent, when the task needs its key's revision and the revision store cannot answer)
     */
    public CompletableFuture<PublishReceipt> publishAsync(Task task) {
        requireNonNull(task, "task");
        return counted(task, publishUncounted(task));
    }

    /**
     * Publishes every task like {@link #publishAsync}, in order, without waiting for confirms: keyed tasks are
     * stamped with their revisions one window ({@link #STAMP_WINDOW} tasks) at a time, with one revision store
     * read per window ({@link RevisionStamper} says why that keeps "a task published before a bump is
     * superseded" true). Returns once every task is handed to the broker (or failed).
     *
     * @return one future per task, in the order given; a task of a window whose revisions could not be read fails
     *     with {@link PublishException} ({@code REVISION_UNAVAILABLE}, nothing sent)
     */
    public List<CompletableFuture<PublishReceipt>> publishAllAsync(List<Task> tasks) {
        List<Task> all = List.copyOf(tasks);
        List<CompletableFuture<PublishReceipt>> futures = new ArrayList<>(all.size());
        RevisionStore store = revisions;
        for (int from = 0; from < all.size(); from += STAMP_WINDOW) {
            List<Task> window = all.subList(from, Math.min(all.size(), from + STAMP_WINDOW));
            List<Task> stamped;
            RuntimeException failure = null;
            try {
                stamped = store == null ? window : new RevisionStamper(store).stamp(window);
            } catch (RuntimeException e) {
                stamped = window;
                failure = e;
            }
            for (int i = 0; i < window.size(); i++) {
                Task original = window.get(i);
                futures.add(counted(original, failure != null && RevisionStamper.needsRevision(original)
                        ? CompletableFuture.failedFuture(revisionUnavailable(original, failure))
                        : publishUncounted(stamped.get(i))));
            }
        }
        return futures;
    }

    /** Keyed tasks stamped with one revision store read: a publish window's worth. */
    static final int STAMP_WINDOW = 500;

    private CompletableFuture<PublishReceipt> counted(Task task, CompletableFuture<PublishReceipt> f) {
        PublisherMetrics m = metrics;
        if (m == null) {
            return f;
        }
        // The returned future completes after the count, so a caller that saw the outcome also sees it counted.
        return f.whenComplete((r, e) -> {
            try {
                m.record(task.queue(), task.type(), r != null && r.absorbed(), e);
            } catch (RuntimeException ignored) {
                // Metrics are best effort: a failing meter never fails the publish.
            }
        });
    }

    private CompletableFuture<PublishReceipt> publishUncounted(Task task) {
        Task stamped;
        try {
            stamped = stamp(task);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(revisionUnavailable(task, e));
        }
        Instant now = clock.instant();
        Instant notBefore = stamped.notBefore() != null ? stamped.notBefore()
                : stamped.delay() != null ? now.plus(stamped.delay()) : null;
        CoalesceWindow window = stamped.coalesce();
        if (window != null) {
            CoalesceSchedule answer;
            try {
                answer = coalesce(stamped, window, now);
            } catch (PublishException e) {
                return CompletableFuture.failedFuture(e);
            }
            if (answer instanceof CoalesceSchedule.Absorbed a) {
                return CompletableFuture.completedFuture(new PublishReceipt(stamped.messageId(), stamped.queue(),
                        stamped.revision(), clock.instant(), a.due(), a.pendingMessageId()));
            }
            notBefore = answer instanceof CoalesceSchedule.PublishDelayed d ? d.notBefore() : null;
        }
        TaskEnvelope envelope = TaskEnvelope.fresh(stamped.messageId(), stamped.type(), stamped.key(),
                stamped.revision(), now, stamped.body()).withLineage(stamped.lineage());
        String exchange = QueueNames.TASKS_EXCHANGE;
        String routingKey = stamped.queue();
        TaskSchedule schedule = new TaskSchedule(null, window, 0, null);
        Instant runsAt = null;
        if (notBefore != null && notBefore.isAfter(now)) {
            DelayTier hop;
            try {
                hop = firstHop(stamped, Duration.between(now, notBefore));
            } catch (PublishException e) {
                return CompletableFuture.failedFuture(e);
            }
            // Straight into the tier queue (default exchange, by name), as retry copies go: its TTL dead-letters
            // the task into the work queue, where a worker hops it again if it is still early.
            exchange = "";
            routingKey = QueueNames.retryQueue(stamped.queue(), hop);
            schedule = new TaskSchedule(notBefore, window, 1, null);
            runsAt = notBefore;
        }
        Instant receiptNotBefore = runsAt;
        return channel.publish(exchange, routingKey, EnvelopeCodec.properties(envelope, schedule), stamped.body())
                .thenApply(v -> new PublishReceipt(stamped.messageId(), stamped.queue(), stamped.revision(),
                        clock.instant(), receiptNotBefore, null));
    }

    private static PublishException revisionUnavailable(Task task, RuntimeException e) {
        return new PublishException(PublishException.Reason.REVISION_UNAVAILABLE, "task " + task.messageId()
                + " for queue '" + task.queue() + "' was not sent: the revision store did not give the current "
                + "revision of its key (" + e.getMessage() + "); retry when it answers, or set the revision "
                + "explicitly", e);
    }

    /** The coordination store's answer for a coalesced task; {@link PublishException} when there is none. */
    private CoalesceSchedule coalesce(Task task, CoalesceWindow window, Instant now) {
        CoalescingStore store = coalescing;
        if (store == null) {
            throw new PublishException(PublishException.Reason.COALESCING_UNAVAILABLE, "coalesced task "
                    + task.messageId() + " for queue '" + task.queue() + "' was not sent: this publisher has no "
                    + "coordination store; build it with coalescingStore(...) (the workers' store)");
        }
        try {
            return store.scheduleOrAbsorb(new CoalesceKey(task.queue(), task.type(), requireNonNull(task.key())),
                    task.messageId(), task.body(), window, now);
        } catch (RuntimeException e) {
            // A store call that timed out may still have run: the payload may have been absorbed.
            throw new PublishException(PublishException.Reason.COALESCING_UNAVAILABLE, true, "coalesced task "
                    + task.messageId() + " for queue '" + task.queue() + "' was not sent: the coordination store "
                    + "did not answer (" + e.getMessage() + "); publish it again (same message id) when it answers",
                    e);
        }
    }

    /** The tier a task that must wait {@code left} goes to first; {@link PublishException} when it cannot. */
    private DelayTier firstHop(Task task, Duration left) {
        List<DelayTier> queueTiers = tiers.get(task.queue());
        if (queueTiers == null) {
            throw new PublishException(PublishException.Reason.NOT_SCHEDULABLE, "delayed task " + task.messageId()
                    + " for queue '" + task.queue() + "' was not sent: this publisher does not know the queue's delay "
                    + "tiers; build it with queues(...) from the hopper.yml the queues were declared with");
        }
        try {
            DelayRoute.checkRoutable(task.queue(), queueTiers, left);
        } catch (IllegalArgumentException e) {
            throw new PublishException(PublishException.Reason.NOT_SCHEDULABLE, "delayed task " + task.messageId()
                    + " was not sent: " + e.getMessage(), e);
        }
        return DelayRoute.nextHop(queueTiers, left);
    }

    /** {@link #publish(Task, Duration)} with the default publish timeout. */
    public PublishReceipt publish(Task task) {
        return publish(task, publishTimeout);
    }

    /**
     * Publishes one task and waits for the broker's confirm.
     *
     * @throws PublishException when it is not confirmed; {@code TIMEOUT} (may have arrived) when no outcome within
     *     {@code timeout}
     */
    public PublishReceipt publish(Task task, Duration timeout) {
        requireNonNull(timeout, "timeout");
        return await(publishAsync(task), task, System.nanoTime() + timeout.toNanos(), timeout);
    }

    /** {@link #publishAll(List, Duration)} with the default publish timeout. */
    public List<PublishReceipt> publishAll(List<Task> tasks) {
        return publishAll(tasks, publishTimeout);
    }

    /**
     * Publishes every task, then waits for all confirms: much faster than one {@link #publish} after another.
     * {@code timeout} bounds the wait for the confirms after the last task was handed to the broker.
     *
     * @return one receipt per task, in the order given
     * @throws BatchPublishException when any task was not confirmed; its {@link BatchPublishException#result()}
     *     lists the confirmed tasks and the failed ones with their index and error
     */
    public List<PublishReceipt> publishAll(List<Task> tasks, Duration timeout) {
        requireNonNull(timeout, "timeout");
        List<Task> batch = List.copyOf(tasks);
        List<CompletableFuture<PublishReceipt>> futures = publishAllAsync(batch);
        long deadline = System.nanoTime() + timeout.toNanos();
        List<PublishReceipt> receipts = new ArrayList<>(batch.size());
        List<BatchResult.Failure> failures = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            try {
                receipts.add(await(futures.get(i), batch.get(i), deadline, timeout));
            } catch (PublishException e) {
                failures.add(new BatchResult.Failure(i, batch.get(i), e));
            }
        }
        if (!failures.isEmpty()) {
            throw new BatchPublishException(new BatchResult(receipts, failures));
        }
        return receipts;
    }

    /** Unconfirmed messages right now. */
    public int inFlight() {
        return channel.inFlight();
    }

    /** Free places in the window of unconfirmed messages (for tests: no permit leaked or doubled). */
    int windowRoom() {
        return channel.windowRoom();
    }

    /**
     * Waits briefly for outstanding confirms, fails what is left with {@code CLOSED}, closes the channel and, when
     * this publisher opened the connection from a {@link BrokerConfig}, the connection. Idempotent.
     */
    @Override
    public void close() {
        channel.close();
        if (ownsConnection) {
            connection.close();
        }
    }

    private Task stamp(Task task) {
        RevisionStore store = revisions;
        String key = task.key();
        if (key == null || task.revision() != null || store == null) {
            return task;
        }
        return task.withRevision(store.currentRevision(key));
    }

    private PublishReceipt await(CompletableFuture<PublishReceipt> f, Task task, long deadlineNanos,
            Duration timeout) {
        try {
            return f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            String blocked = connection.blockedReason();
            if (blocked != null) {
                throw new PublishException(PublishException.Reason.BLOCKED, true,
                        ConfirmedChannel.blockedMessage(blocked) + ": no confirm for task " + task.messageId()
                                + " to queue '" + task.queue() + "' within " + timeout.toMillis() + "ms; it may or "
                                + "may not have arrived; free memory or disk on the broker "
                                + connection.redactedUri(), e);
            }
            throw new PublishException(PublishException.Reason.TIMEOUT, "no confirm for task " + task.messageId()
                    + " to queue '" + task.queue() + "' within " + timeout.toMillis() + "ms; it may or may not "
                    + "have arrived", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishException(PublishException.Reason.CLOSED, true, "interrupted while waiting for the "
                    + "confirm of task " + task.messageId() + "; it may or may not have arrived", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof PublishException p) {
                // Made on the confirm thread: wrap it so the trace shows this caller too, keeping it as the cause.
                throw new PublishException(p.reason(), p.mayHaveArrived(), p.getMessage(), p);
            }
            throw new PublishException(PublishException.Reason.CONNECTION_LOST, true, "publishing task "
                    + task.messageId() + " failed: " + cause, cause == null ? e : cause);
        }
    }

    /** Builds a {@link TaskPublisher}. Not thread-safe. */
    public static final class Builder {
        private @Nullable BrokerConnection connection;
        private @Nullable BrokerConfig brokerConfig;
        private Clock clock = Clock.systemUTC();
        private @Nullable RevisionStore revisions;
        private @Nullable ObjectMapper mapper;
        private int windowSize = 1000;
        private Duration windowWait = Duration.ofSeconds(30);
        private Duration confirmTimeout = Duration.ofSeconds(30);
        private Duration publishTimeout = Duration.ofSeconds(30);
        private io.micrometer.core.instrument.@Nullable MeterRegistry meterRegistry;
        private final Map<String, List<DelayTier>> tiers = new HashMap<>();
        private @Nullable CoalescingStore coalescing;

        private Builder() {}

        /**
         * The work queues this publisher sends delayed tasks to, for their delay tiers (a delayed task goes straight
         * into a tier queue). Give the specs the queues were declared with ({@code HopperConfig.load(path).queues()
         * .values()}). Repeatable; a later spec for the same queue replaces the earlier. Default: none, and a
         * delayed task fails with {@code NOT_SCHEDULABLE}.
         */
        public Builder queues(Collection<QueueSpec> specs) {
            for (QueueSpec q : specs) {
                tiers.put(q.name(), q.tiers());
            }
            return this;
        }

        /**
         * Where coalesced tasks are scheduled or absorbed: the coordination store the workers use (Redis for several
         * processes). Default: none, and a coalesced task fails with {@code COALESCING_UNAVAILABLE}.
         */
        public Builder coalescingStore(@Nullable CoalescingStore store) {
            this.coalescing = store;
            return this;
        }

        /** Counts every publish by outcome in {@code registry} ({@link PublisherMetrics}). Default: no metrics. */
        public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
            this.meterRegistry = requireNonNull(registry, "registry");
            return this;
        }

        /** Publish over this connection; the caller keeps owning it (closing the publisher does not close it). */
        public Builder connection(BrokerConnection connection) {
            this.connection = requireNonNull(connection, "connection");
            return this;
        }

        /**
         * Open a connection from this config at {@link #build()}; the publisher owns and closes it. Named like
         * {@code Worker.Builder.broker}.
         */
        public Builder broker(BrokerConfig config) {
            this.brokerConfig = requireNonNull(config, "config");
            return this;
        }

        /** Wall clock for {@code x-hopper-published-at}, the timestamp property and receipts. Default: UTC. */
        public Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /** Where keyed tasks without an explicit revision get their revision. Default: none (no stamping). */
        public Builder revisionStore(@Nullable RevisionStore store) {
            this.revisions = store;
            return this;
        }

        /** The mapper {@link #newTask()} serializes payloads with. Default: {@link TaskJson#newMapper()}. */
        public Builder objectMapper(ObjectMapper mapper) {
            this.mapper = requireNonNull(mapper, "mapper");
            return this;
        }

        /** Most unconfirmed messages in flight at once. Default 1000. */
        public Builder windowSize(int n) {
            this.windowSize = n;
            return this;
        }

        /**
         * How long a publish waits for room in the window or for the broker to unblock before it fails with
         * {@code WINDOW_FULL} or {@code BLOCKED}. Default 30s; zero rejects at once instead of waiting.
         */
        public Builder windowWait(Duration d) {
            this.windowWait = requireNonNull(d, "windowWait");
            return this;
        }

        /** How long a message may stay unconfirmed before its future fails with TIMEOUT. Default 30s. */
        public Builder confirmTimeout(Duration d) {
            this.confirmTimeout = requireNonNull(d, "confirmTimeout");
            return this;
        }

        /** How long {@link #publish(Task)} and {@link #publishAll(List)} wait for confirms. Default 30s. */
        public Builder publishTimeout(Duration d) {
            this.publishTimeout = requireNonNull(d, "publishTimeout");
            return this;
        }

        /**
         * @throws IllegalArgumentException for a bad setting or when neither or both of a connection and a broker
         *     config are given
         * @throws BrokerUnavailableException when the publisher should open its own connection and cannot
         */
        public TaskPublisher build() {
            if ((connection == null) == (brokerConfig == null)) {
                throw new IllegalArgumentException("give exactly one of connection(...) or broker(...)");
            }
            if (windowSize < 1) {
                throw new IllegalArgumentException("windowSize must be >= 1, was " + windowSize);
            }
            if (windowWait.isNegative()) {
                throw new IllegalArgumentException("windowWait must be >= 0, was " + windowWait);
            }
            for (Duration d : List.of(confirmTimeout, publishTimeout)) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("confirmTimeout and publishTimeout must be positive, was " + d);
                }
            }
            BrokerConnection c = connection;
            if (c != null) {
                return new TaskPublisher(this, c, false);
            }
            BrokerConnection owned = BrokerConnection.open(requireNonNull(brokerConfig));
            try {
                return new TaskPublisher(this, owned, true);
            } catch (RuntimeException e) {
                owned.close();
                throw e;
            }
        }
    }
}
