package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Envelope;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.LockResult;
import dev.hopper.coordination.StoreUnavailableException;
import dev.hopper.topology.CoordinationSpec;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.TaskEnvelope;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Takes one delivery through design.md's steps: decode, crash-loop guard, done-marker, lock and revision,
 * handler (with timeout and lease renewal), decision, settlement. Runs on a worker thread; one instance per
 * queue, shared by that queue's threads (thread-safe: all per-delivery state is local).
 */
final class DeliveryProcessor {
    private static final Logger log = LoggerFactory.getLogger(DeliveryProcessor.class);
    private static final String UNKNOWN_TYPE_TAG = "unknown";
    /** How long a retry or dead-letter copy may take to be confirmed before the original is rejected. */
    private static final Duration COPY_CONFIRM_WAIT = Duration.ofSeconds(30);

    /** What a processor needs from its worker. */
    interface Host {
        /** The coordination store is down: stop consuming this queue until it answers. */
        void storeUnavailable(String queue, StoreUnavailableException e);

        /** True once the worker is shutting down: deliveries not yet started go back unrun. */
        boolean closing();
    }

    private final QueueSpec spec;
    private final Map<String, RegisteredHandler<?>> handlers;
    private final @Nullable RegisteredHandler<?> fallback;
    private final EnvelopeCodec codec;
    private final DeliveryDecider decider = new DeliveryDecider();
    private final RetryRouter retries;
    private final DeadLetterPublisher deadLetters;
    private final CoordinationStore store;
    private final boolean markUnkeyedDone;
    private final CoordinationSpec coordination;
    private final Clock clock;
    private final ScheduledExecutorService timers;
    private final WorkerListener listener;
    private final String workerId;
    private final Host host;
    private final java.util.function.Consumer<String> afterComplete;
    private final DeliveryGate gate;

    DeliveryProcessor(QueueSpec spec, Map<String, RegisteredHandler<?>> handlers,
            @Nullable RegisteredHandler<?> fallback, RetryRouter retries,
            DeadLetterPublisher deadLetters, CoordinationStore store, boolean markUnkeyedDone,
            CoordinationSpec coordination, Clock clock, ScheduledExecutorService timers, WorkerListener listener,
            String workerId, Host host, java.util.function.Consumer<String> afterComplete, DeliveryGate gate) {
        this.spec = spec;
        this.handlers = Map.copyOf(handlers);
        this.fallback = fallback;
        this.codec = new EnvelopeCodec(spec.maxBodyBytes());
        this.retries = retries;
        this.deadLetters = deadLetters;
        this.store = store;
        this.markUnkeyedDone = markUnkeyedDone;
        this.coordination = coordination;
        this.clock = clock;
        this.timers = timers;
        this.listener = listener;
        this.workerId = workerId;
        this.host = host;
        this.afterComplete = afterComplete;
        this.gate = gate;
    }

    void process(Channel channel, Envelope delivery, AMQP.BasicProperties props, byte[] body) {
        String queue = spec.name();
        String idForLog = props == null || props.getMessageId() == null ? "?" : props.getMessageId();
        Settlement settlement = new Settlement(channel, delivery.getDeliveryTag(), idForLog);
        MDC.put("hopper.queue", queue);
        MDC.put("hopper.id", idForLog);
        try {
            if (host.closing()) {
                settlement.nackRequeue();
                settled(UNKNOWN_TYPE_TAG, Outcome.RETURNED, null, null, 0);
                return;
            }
            DeliveryGate.Pass pass = gate.admit();
            if (pass == null) {
                // Circuit breaker open: back unrun, no attempt counted, so waiting tasks keep their retries.
                handBack(settlement, props, body, idForLog);
                settled(UNKNOWN_TYPE_TAG, Outcome.RETURNED, null, null, 0);
                return;
            }
            try (pass) {
                processOpen(settlement, delivery, props, body, pass);
            }
        } catch (RuntimeException | Error e) {
            // A bug in Hopper, not the task's fault: give the delivery back; the crash-loop guard bounds repeats.
            log.error("unexpected error processing delivery queue={} id={}", queue, idForLog, e);
            if (!settlement.isSettled()) {
                settlement.rejectRequeue();
            }
        } finally {
            MDC.remove("hopper.queue");
            MDC.remove("hopper.id");
        }
    }

    private void processOpen(Settlement settlement, Envelope delivery, AMQP.BasicProperties props, byte[] body,
            DeliveryGate.Pass pass) {
        // 1. Decode.
        EnvelopeCodec.Decoded decoded = codec.decode(props, body);
        if (decoded instanceof EnvelopeCodec.Malformed m) {
            deadLetter(settlement, props, body, Decision.DeadLetter.of(DeadReason.MALFORMED, m.reason()), null,
                    tagFor(m.type()), m.messageId(), m.type());
            return;
        }
        TaskEnvelope env = ((EnvelopeCodec.Valid) decoded).envelope();
        RegisteredHandler<?> handler = handlers.getOrDefault(env.type(), fallback);
        if (handler == null) {
            deadLetter(settlement, props, body, Decision.DeadLetter.of(DeadReason.UNKNOWN_TYPE,
                    "no handler for type '" + Headers.truncate(env.type(), 100) + "' on queue " + spec.name()
                            + " (registered: " + String.join(", ", handlers.keySet()) + ")"),
                    null, UNKNOWN_TYPE_TAG, env.messageId(), env.type());
            return;
        }
        // 2. Crash-loop guard: a delivery the broker keeps handing out without settlement kills workers.
        int deliveries = brokerDeliveryCount(props);
        if (deliveries > spec.poisonAfter()) {
            deadLetter(settlement, props, body, Decision.DeadLetter.of(DeadReason.POISON, "delivered "
                    + (deliveries + 1) + " times without being settled (poison-after " + spec.poisonAfter()
                    + "): it crashes or hangs workers"), env.attempt(), env.type(), env.messageId(), env.type());
            return;
        }
        Object payload;
        try {
            payload = handler.read(env.body());
        } catch (Exception e) {
            deadLetter(settlement, props, body, Decision.DeadLetter.of(DeadReason.MALFORMED, "body is not valid "
                    + "JSON for " + handler.payloadType().getSimpleName() + ": "
                    + Headers.truncate(e instanceof java.io.IOException io ? dev.hopper.topology.TaskJson.describe(io)
                            : String.valueOf(e.getMessage()), 300)),
                    null, env.type(), env.messageId(), env.type());
            return;
        }
        boolean redelivered = delivery.isRedeliver() || deliveries > 0;
        try {
            // With markUnkeyedDone every delivery is checked, not only redeliveries: a publisher that lost its
            // connection sends unconfirmed tasks again under the same id (hopper publish --resume), and such a
            // copy reaches us as a fresh delivery.
            if ((redelivered && env.key() != null || markUnkeyedDone) && store.isCompleted(env.messageId())) {
                // The previous worker finished the handler but died before its ack, or this is a resent copy.
                settlement.ack();
                settled(env.type(), Outcome.DUPLICATE, null, null, env.attempt());
                return;
            }
        } catch (StoreUnavailableException e) {
            handBackForStore(settlement, env, props, body, e);
            return;
        }
        if (!pass.awaitStart()) { // rate limit; false only when interrupted by shutdown
            settlement.nackRequeue();
            settled(env.type(), Outcome.RETURNED, null, null, env.attempt());
            return;
        }
        // 3. Lock and revision.
        String key = env.key();
        String owner = workerId + "/" + env.messageId() + "/" + delivery.getDeliveryTag();
        OptionalLong token = OptionalLong.empty();
        OptionalLong revisionAtLock = OptionalLong.empty();
        if (key != null) {
            LockResult r;
            try {
                r = store.checkAndLock(key, env.revision(), owner, spec.lock().lease(),
                        spec.lock().superseded() == SupersededPolicy.REFRESH);
            } catch (StoreUnavailableException e) {
                handBackForStore(settlement, env, props, body, e);
                return;
            }
            if (r instanceof LockResult.Superseded s) {
                log.debug("task superseded queue={} id={} key={} revision={} current={}", spec.name(),
                        env.messageId(), key, env.revision(), s.currentRevision());
                settlement.ack();
                settled(env.type(), Outcome.SUPERSEDED, null, null, env.attempt());
                return;
            }
            if (r instanceof LockResult.Busy b) {
                Decision d = decider.onLockBusy(env.attempt(), env.lockWaits(), spec.lock().maxWaits(),
                        b.remainingLease(), spec.tiers());
                Instant first = env.firstAttemptAt() == null ? clock.instant() : env.firstAttemptAt();
                apply(settlement, props, body, env, d, first, null, Outcome.LOCK_BUSY);
                return;
            }
            LockResult.Acquired a = (LockResult.Acquired) r;
            token = OptionalLong.of(a.fencingToken());
            revisionAtLock = OptionalLong.of(a.currentRevision());
        }
        // 4. Run the handler.
        Instant startedAt = clock.instant();
        Instant firstAttemptAt = env.firstAttemptAt() == null ? startedAt : env.firstAttemptAt();
        TaskContext ctx = new TaskContext(spec.name(), env, props.getHeaders() == null ? Map.of() : props.getHeaders(),
                startedAt, startedAt.plus(spec.handlerTimeout()), token, revisionAtLock);
        HandlerRun run = new HandlerRun(Thread.currentThread(), ctx);
        ScheduledFuture<?> timeout = timers.schedule(() -> run.stop(HandlerRun.Stop.TIMEOUT),
                spec.handlerTimeout().toMillis(), TimeUnit.MILLISECONDS);
        ScheduledFuture<?> renewal = key == null ? null : startRenewal(key, owner, token.getAsLong(), run);
        Throwable failure = null;
        long t0 = System.nanoTime();
        try {
            handler.run(payload, ctx);
        } catch (Throwable t) {
            failure = t;
        } finally {
            timeout.cancel(false);
            if (renewal != null) {
                renewal.cancel(false);
            }
        }
        HandlerRun.Stop stop = run.finish();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        Duration lag = Duration.between(env.publishedAt(), startedAt);
        if (stop == HandlerRun.Stop.TIMEOUT) {
            failure = new HandlerTimeoutException(spec.handlerTimeout());
        } else if (stop == HandlerRun.Stop.LEASE_LOST && failure == null) {
            failure = new dev.hopper.topology.HopperException("the key's lock was lost while the handler ran");
        }
        pass.handlerFinished(took, failure, stop == HandlerRun.Stop.LEASE_LOST
                || (failure != null && DeliveryDecider.isPermanent(failure, spec.retryFor(env.type()))));
        // 5. Outcome.
        if (failure == null && stop == HandlerRun.Stop.NONE) {
            complete(key, owner, token, env);
            afterComplete.accept(env.messageId());
            settlement.ack();
            settled(env.type(), Outcome.SUCCESS, took, lag, env.attempt() + 1);
            return;
        }
        if (host.closing() && stop == HandlerRun.Stop.NONE && failure instanceof InterruptedException) {
            // The worker interrupted this run itself (shutdown past the drain): not the task's failure.
            if (key != null) {
                release(key, owner, token.getAsLong());
            }
            settlement.nackRequeue();
            settled(env.type(), Outcome.RETURNED, took, lag, env.attempt());
            return;
        }
        boolean revisionMoved = false;
        if (key != null) {
            revisionMoved = revisionMoved(key, revisionAtLock.getAsLong());
            release(key, owner, token.getAsLong());
        }
        Decision d = decider.onFailure(new DeliveryDecider.Failure(env.attempt(), firstAttemptAt, env.lockWaits(),
                failure, stop == HandlerRun.Stop.LEASE_LOST, revisionMoved, spec.lock().superseded(),
                spec.retryFor(env.type()), spec.tiers(), clock.instant()));
        apply(settlement, props, body, env, d, firstAttemptAt, failure, null, took, lag);
    }

    private void apply(Settlement s, AMQP.BasicProperties props, byte[] body, TaskEnvelope env, Decision d,
            Instant firstAttemptAt, @Nullable Throwable failure, @Nullable Outcome retryOutcome) {
        apply(s, props, body, env, d, firstAttemptAt, failure, retryOutcome, null, null);
    }

    private void apply(Settlement s, AMQP.BasicProperties props, byte[] body, TaskEnvelope env, Decision d,
            Instant firstAttemptAt, @Nullable Throwable failure, @Nullable Outcome retryOutcome,
            @Nullable Duration took, @Nullable Duration lag) {
        if (d instanceof Decision.Ack a) {
            s.ack();
            settled(env.type(), a.outcome(), took, lag, env.attempt() + 1);
        } else if (d instanceof Decision.RetryLater r) {
            boolean ok = confirmThenAck(s, retries.retryLater(spec.name(), props, body, r, firstAttemptAt, failure),
                    env.messageId(), "retry");
            if (ok) {
                Outcome o = retryOutcome != null ? retryOutcome : Outcome.RETRIED;
                if (o == Outcome.LOCK_BUSY) {
                    log.debug("task lock busy queue={} id={} key={} tier={} waits={}", spec.name(), env.messageId(),
                            env.key(), r.tier(), r.lockWaits());
                } else {
                    log.warn("task retry scheduled queue={} id={} type={} attempt={} tier={} reason={} error={}",
                            spec.name(), env.messageId(), env.type(), r.nextAttempt(), r.tier(),
                            r.reason().wireValue(), failure == null ? "" : failure.toString());
                }
                settled(env.type(), o, took, lag, env.attempt() + 1);
            }
        } else if (d instanceof Decision.DeadLetter dl) {
            int attempts = retryOutcome == Outcome.LOCK_BUSY ? env.attempt() : env.attempt() + 1;
            deadLetter(s, props, body, dl, attempts, env.type(), env.messageId(), env.type(), took, lag);
        } else if (d instanceof Decision.RequeueNow rn) {
            if (confirmThenAck(s, retries.requeueNow(spec.name(), props, body, rn.reason(), firstAttemptAt),
                    env.messageId(), "requeue")) {
                log.info("task requeued at once queue={} id={} reason={}", spec.name(), env.messageId(),
                        rn.reason().wireValue());
                settled(env.type(), Outcome.RETRIED, took, lag, env.attempt() + 1);
            }
        } else if (d instanceof Decision.HandBack) {
            s.nackRequeue();
            settled(env.type(), Outcome.RETURNED, took, lag, env.attempt());
        }
    }

    private void deadLetter(Settlement s, AMQP.@Nullable BasicProperties props, byte[] body, Decision.DeadLetter d,
            @Nullable Integer attempts, String typeTag, @Nullable String messageId, @Nullable String type) {
        deadLetter(s, props, body, d, attempts, typeTag, messageId, type, null, null);
    }

    /** With the handler's run time and lag when it ran (for the duration and lag metrics). */
    private void deadLetter(Settlement s, AMQP.@Nullable BasicProperties props, byte[] body, Decision.DeadLetter d,
            @Nullable Integer attempts, String typeTag, @Nullable String messageId, @Nullable String type,
            @Nullable Duration took, @Nullable Duration lag) {
        if (confirmThenAck(s, deadLetters.deadLetter(spec.name(), props, body == null ? new byte[0] : body, d,
                attempts), String.valueOf(messageId), "dead-letter")) {
            log.warn("task dead-lettered queue={} id={} type={} reason={} error={}", spec.name(), messageId,
                    type == null ? "" : Headers.truncate(type, 100), d.reason().wireValue(),
                    d.errorMessage() == null ? "" : Headers.truncate(d.errorMessage(), 300));
            settled(typeTag, Outcome.DEAD, took, lag, attempts == null ? 0 : attempts);
        }
    }

    /**
     * Waits for the copy's confirm, then acks the original. If the copy was not confirmed the original goes back
     * with reject+requeue: the task is never lost, and the broker's delivery limit bounds the loop.
     */
    private boolean confirmThenAck(Settlement s, CompletableFuture<Void> copy, String messageId, String what) {
        try {
            copy.get(COPY_CONFIRM_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            s.ack();
            return true;
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            log.warn("{} copy not confirmed, original requeued queue={} id={}: {}", what, spec.name(), messageId,
                    String.valueOf(cause));
            s.rejectRequeue();
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.rejectRequeue();
            return false;
        }
    }

    private ScheduledFuture<?> startRenewal(String key, String owner, long token, HandlerRun run) {
        Duration lease = spec.lock().lease();
        long every = Math.max(50, lease.toMillis() / 3);
        long[] lastRenewed = {System.nanoTime()};
        return timers.scheduleAtFixedRate(() -> {
            try {
                if (store.renew(key, owner, token, lease)) {
                    lastRenewed[0] = System.nanoTime();
                } else {
                    log.warn("lock lost while running queue={} key={} token={}", spec.name(), key, token);
                    run.stop(HandlerRun.Stop.LEASE_LOST);
                }
            } catch (RuntimeException e) {
                // Cannot tell while the store is silent; once a whole lease passed unrenewed the lock is gone.
                if (System.nanoTime() - lastRenewed[0] >= lease.toNanos()) {
                    log.warn("lock lease expired unrenewed queue={} key={}: {}", spec.name(), key, e.toString());
                    run.stop(HandlerRun.Stop.LEASE_LOST);
                }
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    private void complete(@Nullable String key, String owner, OptionalLong token, TaskEnvelope env) {
        if (key == null && !markUnkeyedDone) {
            return;
        }
        try {
            // Before the ack: a worker dying between the two leaves a done-marker, so the redelivery is a no-op.
            store.complete(key, owner, token.orElse(0), env.messageId(), coordination.doneMarkerTtl());
        } catch (RuntimeException e) {
            log.warn("could not record completion queue={} id={} key={} (the lock expires with its lease): {}",
                    spec.name(), env.messageId(), key, e.toString());
        }
    }

    private void release(String key, String owner, long token) {
        try {
            store.release(key, owner, token);
        } catch (RuntimeException e) {
            log.warn("could not release lock queue={} key={} (it expires with its lease): {}", spec.name(), key,
                    e.toString());
        }
    }

    private boolean revisionMoved(String key, long revisionAtLock) {
        try {
            return store.currentRevision(key) > revisionAtLock;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void handBackForStore(Settlement s, TaskEnvelope env, AMQP.BasicProperties props, byte[] body,
            StoreUnavailableException e) {
        handBack(s, props, body, env.messageId());
        settled(env.type(), Outcome.RETURNED, null, null, env.attempt());
        host.storeUnavailable(spec.name(), e);
    }

    /**
     * Gives a delivery back unrun as a confirmed copy at the tail of the work queue, then acks it. A nack would
     * do the same on RabbitMQ 4.3+, but before 4.3 every nack raises {@code x-delivery-count}, so a few breaker
     * cycles or store outages would push healthy tasks past the poison guard. Falls back to nack+requeue when the
     * copy cannot be published (nothing is lost either way).
     */
    private void handBack(Settlement s, AMQP.@Nullable BasicProperties props, byte[] body, String idForLog) {
        if (props == null) {
            s.nackRequeue();
            return;
        }
        try {
            retries.handBack(spec.name(), props, body).get(COPY_CONFIRM_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            s.ack();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("hand-back copy not confirmed, nacking instead queue={} id={}: {}", spec.name(), idForLog,
                    e.toString());
            s.nackRequeue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.nackRequeue();
        }
    }

    private static int brokerDeliveryCount(AMQP.BasicProperties props) {
        try {
            return HeaderValues.count(props.getHeaders(), Headers.BROKER_DELIVERY_COUNT).orElse(0);
        } catch (HeaderValues.Mistyped e) {
            return 0;
        }
    }

    private String tagFor(@Nullable String type) {
        return type != null && handlers.containsKey(type) ? type : UNKNOWN_TYPE_TAG;
    }

    private void settled(String type, Outcome outcome, @Nullable Duration took, @Nullable Duration lag, int attempts) {
        try {
            listener.onSettled(new WorkerListener.Settled(spec.name(), handlers.containsKey(type) ? type
                    : UNKNOWN_TYPE_TAG, outcome, took, lag, attempts));
        } catch (RuntimeException e) {
            log.warn("worker listener failed: {}", e.toString());
        }
    }
}
