package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import dev.hopper.topology.TaskEnvelope;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Takes one delivery from arrival to settlement: reads it, then loops {@code decide(facts)} → carry out the
 * requested {@link Effect} → add its result to the facts, until the {@link DeliveryDecider} answers a terminal
 * {@link Decision}, which {@link DecisionSettler} carries out. It has no branch that chooses a delivery's fate.
 * Whatever happens, the delivery is settled at most once, the key's lock is not left held, the circuit breaker hears
 * about an admitted run, and an unexpected error (a bug in Hopper) sends the delivery back with reject+requeue, which
 * the crash-loop guard bounds.
 *
 * <p>Where each step runs, and why (the keyed hot path; async-profiler put two thirds of the delivery threads' CPU
 * in parking and waking):
 * <ul>
 *   <li>{@link #start} runs on the consumer's dispatch thread, which must not wait: reading, deciding and the effects
 *       that never wait ({@link DeliveryEffects#runWithoutWaiting}: admission without a breaker, the clock, a free
 *       start slot) happen there;
 *   <li>the first check-and-lock goes out asynchronously ({@link DeliveryEffects#runsLater}) and its answer comes on
 *       the store client's I/O thread, which also must not wait;
 *   <li>the first effect that may wait (a run slot, the handler, a busy key's wait, a store call that blocks) and
 *       every settlement but a plain ack move the delivery to one of the queue's delivery threads
 *       ({@link #handOn});
 *   <li>the completion goes out asynchronously too and the delivery thread returns to the pool; the answer's thread
 *       decides and acks without waiting ({@link DecisionSettler#settleWithoutWaiting}: the ack frame is left to the
 *       ack flusher).
 * </ul>
 * So a keyed delivery wakes one delivery thread, with its lock answer in hand, for its run, and nothing blocks a
 * client library's thread. {@code finished} tells the caller when the delivery is really done.
 *
 * <p>Thread-safe: one instance per queue, shared by that queue's handler threads; a delivery's state is handled by
 * one thread at a time (handed over through the store batcher's lock).
 */
final class DeliveryExecutor {
    private static final Logger log = LoggerFactory.getLogger(DeliveryExecutor.class);
    /** A decider that asks for more effects than this without deciding has a bug; no real path needs ten. */
    private static final int MAX_EFFECTS = 32;

    /** Who the worker is, whether it is shutting down, and who hears about settlements. */
    record Hooks(String workerId, BooleanSupplier shuttingDown, WorkerListener listener, BooleanSupplier held) {
        /** Hooks of a queue that is never held. */
        Hooks(String workerId, BooleanSupplier shuttingDown, WorkerListener listener) {
            this(workerId, shuttingDown, listener, () -> false);
        }
    }

    private final String queue;
    private final DeliveryReader reader;
    private final DeliveryDecider decider;
    private final DeliveryEffects effects;
    private final DecisionSettler settler;
    private final Hooks hooks;

    DeliveryExecutor(String queue, DeliveryReader reader, DeliveryDecider decider, DeliveryEffects effects,
            DecisionSettler settler, Hooks hooks) {
        this.queue = queue;
        this.reader = reader;
        this.decider = decider;
        this.effects = effects;
        this.settler = settler;
        this.hooks = hooks;
    }

    /**
     * Takes the delivery from arrival to settlement with the calling thread as its delivery thread (the executor
     * tests' way in; the consumer's are {@link #start} and {@link #startOnDeliveryThread}). Returns when the delivery is settled, or earlier, when an effect that
     * {@link DeliveryEffects#runsLater} is on its way: then the thread that gets that effect's answer carries the
     * delivery on. Either way {@code finished} runs exactly once, after the settlement (or the unexpected error), on
     * the thread that settled it.
     */
    void execute(SettlementSink sink, Envelope envelope, AMQP.@Nullable BasicProperties props, byte @Nullable [] body,
            Runnable finished) {
        begin(sink, envelope, props, body, new DeliveryThreads(Runnable::run, () -> true), finished, true);
    }

    /**
     * Where a delivery goes once it may wait: {@code threads}, the queue's delivery threads, as long as
     * {@code channelOpen} (the channel generation that delivered it is open; if it closed, the broker requeued the
     * delivery and it must not run here); what {@code threads} refuse while the worker closes goes to {@code late}.
     */
    record DeliveryThreads(Executor threads, BooleanSupplier channelOpen, LateHandOns late) {
        /** Threads that never leave a refused hand-on to a closing thread: a refusal nacks. */
        DeliveryThreads(Executor threads, BooleanSupplier channelOpen) {
            this(threads, channelOpen, new LateHandOns());
        }
    }

    /**
     * Takes the delivery from arrival to settlement, starting on the calling thread (the consumer's dispatch thread),
     * which must not wait: the delivery goes as far as it can without waiting here (read, decide, admit, its first
     * lock call, which goes out asynchronously), then moves to one of {@code threads} for the first effect that may
     * wait (a run slot, the handler, a busy key's wait) or for its settlement. So a keyed delivery wakes one delivery
     * thread, with its lock answer in hand, instead of one to send its lock call and a second time when the answer
     * comes. {@code finished} runs exactly once, after the settlement (or the unexpected error, or the drop of a
     * delivery whose channel closed before it ran), on the thread that settled it.
     */
    void start(SettlementSink sink, Envelope envelope, AMQP.@Nullable BasicProperties props, byte @Nullable [] body,
            DeliveryThreads threads, Runnable finished) {
        begin(sink, envelope, props, body, threads, finished, false);
    }

    /**
     * {@link #start}, but the delivery is first handed to one of {@code threads} and goes through there (as far as its
     * first asynchronous store call, if any). For deliveries with no store call to send early. Returns at once;
     * refused by {@code threads} (shutdown): left to the closing thread ({@link LateHandOns}), or, when that no
     * longer takes any, nacked unrun, then {@code finished}.
     */
    void startOnDeliveryThread(SettlementSink sink, Envelope envelope, AMQP.@Nullable BasicProperties props,
            byte @Nullable [] body, DeliveryThreads threads, Runnable finished) {
        Runnable go = () -> begin(sink, envelope, props, body, threads, finished, true);
        try {
            threads.threads().execute(go);
        } catch (RejectedExecutionException e) {
            Runnable refuse = () -> {
                String id = props == null || props.getMessageId() == null ? "?" : props.getMessageId();
                log.info("worker shutting down: delivery handed back unrun queue={} id={}", queue, id);
                try {
                    new Settlement(sink, envelope.getDeliveryTag(), id).nackRequeue();
                } finally {
                    finished.run();
                }
            };
            if (!threads.late().defer(go, refuse)) {
                refuse.run();
            }
        }
    }

    private void begin(SettlementSink sink, Envelope envelope, AMQP.@Nullable BasicProperties props,
            byte @Nullable [] body, DeliveryThreads threads, Runnable finished, boolean onDeliveryThread) {
        byte[] bytes = body == null ? new byte[0] : body;
        String idForLog = props == null || props.getMessageId() == null ? "?" : props.getMessageId();
        InFlight d = new InFlight(new Settlement(sink, envelope.getDeliveryTag(), idForLog), props, bytes, idForLog,
                threads, finished);
        DeliveryFacts facts;
        try (Mdc ignored = Mdc.of(queue, idForLog)) {
            if (!threads.channelOpen().getAsBoolean()) {
                dropUnrun(d, null); // its start waited behind another delivery of its key
                return;
            }
            try {
                facts = DeliveryFacts.arrived(new DeliveryFacts.Arrival(envelope.getDeliveryTag(),
                        envelope.isRedeliver(), DeliveryReader.deliveryCount(props), reader.read(props, bytes),
                        hooks.workerId() + "/" + idForLog + "/" + envelope.getDeliveryTag(),
                        hooks.shuttingDown().getAsBoolean(), DeliveryReader.suspectCrashes(props),
                        hooks.held().getAsBoolean()));
            } catch (RuntimeException | Error e) {
                failed(d, null, e);
                finish(d, null, null);
                return;
            }
            proceed(d, facts, onDeliveryThread);
        }
    }

    /** One delivery between its arrival and its settlement; handled by one thread at a time. */
    private static final class InFlight {
        final Settlement settlement;
        final AMQP.@Nullable BasicProperties props;
        final byte[] body;
        final String idForLog;
        final DeliveryThreads threads;
        @Nullable Runnable finished; // null once finished
        int effects;

        InFlight(Settlement settlement, AMQP.@Nullable BasicProperties props, byte[] body, String idForLog,
                DeliveryThreads threads, Runnable finished) {
            this.settlement = settlement;
            this.props = props;
            this.body = body;
            this.idForLog = idForLog;
            this.threads = threads;
            this.finished = finished;
        }
    }

    /**
     * Loops decide → effect from {@code facts} until a decision, which it settles; or until an effect that runs
     * later, whose continuation calls this again (on the thread that answers it, under this delivery's MDC); or,
     * when this thread must not wait ({@code mayWait} false), until an effect that might wait or a decision, which
     * it hands to a delivery thread ({@link #handOn}: decide is pure, so the same step comes back there).
     */
    private void proceed(InFlight d, DeliveryFacts start, boolean mayWait) {
        DeliveryFacts facts = start;
        Throwable failure = null;
        try {
            Step step = decider.decide(facts);
            while (step instanceof Effect effect) {
                if (d.effects++ == MAX_EFFECTS) {
                    throw new IllegalStateException("no decision after " + MAX_EFFECTS + " effects: " + facts);
                }
                if (DeliveryEffects.runsLater(effect, mayWait)) {
                    DeliveryFacts before = facts;
                    effects.runLater(effect, facts, next -> {
                        try (Mdc ignored = Mdc.of(queue, d.idForLog)) {
                            proceed(d, next, false);
                        }
                    }, bug -> {
                        try (Mdc ignored = Mdc.of(queue, d.idForLog)) {
                            unexpected(d, before, bug, false);
                        }
                    });
                    return;
                }
                if (mayWait) {
                    facts = effects.run(effect, facts, d.props == null ? null : d.props.getHeaders());
                } else {
                    DeliveryFacts here = effects.runWithoutWaiting(effect, facts);
                    if (here == null) {
                        handOn(d, facts, effects.holdWhileQueued(effect));
                        return;
                    }
                    facts = here;
                }
                step = decider.decide(facts);
            }
            Decision decision = (Decision) step;
            HandlerOutcome h = facts.handler();
            failure = h == null ? null : DeliveryDecider.failureOf(h, Duration.ZERO);
            DecisionSettler.Delivery delivery = new DecisionSettler.Delivery(d.settlement, d.props, d.body);
            if (!mayWait) {
                // An ack (a completed run's, nearly always) is settled here; anything else may wait (a confirmed
                // copy) or call the store (a held lock's release), so it goes to a delivery thread.
                if (facts.heldLock() != null || !settler.settleWithoutWaiting(delivery, decision)) {
                    handOn(d, facts);
                    return;
                }
                settled(facts, decision, failure);
            } else {
                effects.releaseHeldLock(facts);
                if (settler.settle(delivery, decision, facts)) {
                    settled(facts, decision, failure);
                }
            }
        } catch (RuntimeException | Error e) {
            if (!mayWait) {
                unexpected(d, facts, e, false);
                return;
            }
            failed(d, facts, e);
        }
        finish(d, facts, failure);
    }

    /**
     * Moves the delivery to a delivery thread, where it goes on unless its channel closed meanwhile, with the
     * worker's shutdown and the queue's hold observed again (as they were observed at arrival before the delivery
     * could start before its thread). Refused (the worker shuts down): carried on by the closing thread
     * ({@link LateHandOns}: handed back as a copy, its lock released); when even that is over, nacked unrun, and a
     * lock it holds expires with its lease (this thread must not wait for the store).
     */
    private void handOn(InFlight d, DeliveryFacts facts) {
        handOn(d, facts, null);
    }

    /**
     * As {@link #handOn(InFlight, DeliveryFacts)}, with the lease of a lock the delivery took for its run kept by
     * {@code hold} until it has its thread (the queue has {@code concurrency} threads, and the wait for one can be
     * as long as a handler's run).
     */
    private void handOn(InFlight d, DeliveryFacts facts, DeadlineSweeper.@Nullable QueuedHold hold) {
        Runnable go = () -> {
            try (Mdc ignored = Mdc.of(queue, d.idForLog)) {
                DeliveryFacts.QueuedLease kept = hold == null ? null : hold.end();
                DeliveryFacts here = kept == null ? facts : facts.withQueuedLease(kept);
                if (facts.handler() == null && !d.threads.channelOpen().getAsBoolean()) {
                    dropUnrun(d, here);
                    return;
                }
                proceed(d, facts.handler() != null ? here : here.withHoldsSeenAgain(
                        hooks.shuttingDown().getAsBoolean(), hooks.held().getAsBoolean()), true);
            }
        };
        try {
            d.threads.threads().execute(go);
        } catch (RejectedExecutionException e) {
            // The closing thread carries it on once the pools stopped (back as a copy, its lock released); only
            // when that is over too is it nacked here (this thread must not wait for a copy's confirm).
            Runnable refuse = () -> {
                if (hold != null) {
                    hold.end();
                }
                log.info("worker shutting down: delivery handed back unrun queue={} id={}{}", queue, d.idForLog,
                        facts.heldLock() == null ? "" : " (its key's lock expires with its lease)");
                try {
                    if (!d.settlement.isSettled()) {
                        d.settlement.nackRequeue();
                    }
                } catch (RuntimeException again) {
                    log.debug("could not hand back delivery queue={} id={}: {}", queue, d.idForLog,
                            again.toString());
                }
                finish(d, facts, null);
            };
            if (!d.threads.late().defer(go, refuse)) {
                refuse.run();
            }
        }
    }

    /**
     * Drops a delivery whose channel closed before it ran: the broker requeued it with the channel (e.g. while this
     * process was frozen past the heartbeat), so running it now would run it twice. Releases a lock it took.
     */
    private void dropUnrun(InFlight d, @Nullable DeliveryFacts facts) {
        log.info("delivery's channel closed before it started; the broker redelivers it queue={} id={}", queue,
                d.idForLog);
        if (facts != null) {
            effects.releaseHeldLock(facts);
        }
        finish(d, facts, null);
    }

    /**
     * An unexpected error (a bug): handled on a delivery thread, since giving the delivery back sends a frame and
     * giving back a held lock calls the store.
     */
    private void unexpected(InFlight d, DeliveryFacts facts, Throwable e, boolean mayWait) {
        if (mayWait) {
            failed(d, facts, e);
            finish(d, facts, null);
            return;
        }
        try {
            d.threads.threads().execute(() -> {
                try (Mdc ignored = Mdc.of(queue, d.idForLog)) {
                    failed(d, facts, e);
                    finish(d, facts, null);
                }
            });
        } catch (RejectedExecutionException rejected) {
            log.error("unexpected error processing delivery queue={} id={} (its key's lock expires with its lease)",
                    queue, d.idForLog, e);
            try {
                if (!d.settlement.isSettled()) {
                    d.settlement.rejectRequeue();
                }
            } catch (RuntimeException again) {
                log.error("could not give back delivery queue={} id={}", queue, d.idForLog, again);
            }
            finish(d, facts, null);
        }
    }

    /** A bug in Hopper, not the task's fault: give the delivery back; the crash-loop guard bounds repeats. */
    private void failed(InFlight d, @Nullable DeliveryFacts facts, Throwable e) {
        log.error("unexpected error processing delivery queue={} id={}", queue, d.idForLog, e);
        try {
            if (!d.settlement.isSettled()) {
                d.settlement.rejectRequeue();
            }
            if (facts != null) {
                effects.releaseHeldLock(facts);
            }
        } catch (RuntimeException | Error again) {
            log.error("could not give back delivery queue={} id={}", queue, d.idForLog, again);
        }
    }

    /**
     * Gives back the slots the delivery held, tells the circuit breaker, then runs {@code finished}; once, whatever
     * throws.
     */
    private void finish(InFlight d, @Nullable DeliveryFacts facts, @Nullable Throwable failure) {
        Runnable finished = d.finished;
        if (finished == null) {
            return;
        }
        d.finished = null;
        try {
            if (facts != null) {
                effects.giveBackSlot(facts);
                effects.report(decider.breakerReport(facts), facts, failure);
            }
        } catch (RuntimeException | Error e) {
            log.error("unexpected error finishing delivery queue={} id={}", queue, d.idForLog, e);
        } finally {
            finished.run();
        }
    }

    /** Sets the delivery's MDC keys and puts back the ones it found (a continuation runs inside another's). */
    private static final class Mdc implements AutoCloseable {
        private final @Nullable String queue;
        private final @Nullable String id;

        private Mdc(@Nullable String queue, @Nullable String id) {
            this.queue = queue;
            this.id = id;
        }

        static Mdc of(String queue, String id) {
            Mdc previous = new Mdc(MDC.get("hopper.queue"), MDC.get("hopper.id"));
            MDC.put("hopper.queue", queue);
            MDC.put("hopper.id", id);
            return previous;
        }

        @Override
        public void close() {
            restore("hopper.queue", queue);
            restore("hopper.id", id);
        }

        private static void restore(String key, @Nullable String value) {
            if (value == null) {
                MDC.remove(key);
            } else {
                MDC.put(key, value);
            }
        }
    }

    private void settled(DeliveryFacts f, Decision d, @Nullable Throwable failure) {
        TaskEnvelope env = f.envelope();
        if (failure != null && d.outcome() == Outcome.SUPERSEDED) {
            // Acked with no retry: without this line the failure would vanish. It is not an error: the key's
            // revision moved on during the run, and work for the newer revision comes with a newer task.
            log.info("task superseded after its handler failed: the key's revision moved on during the run, so "
                    + "the failure is not retried (lock.superseded: skip) queue={} id={} type={} key={} error={}",
                    queue, env == null ? "?" : env.messageId(), env == null ? "?" : env.type(),
                    env == null ? null : env.key(), failure.toString());
        }
        String type = env != null ? env.type() : f.reading() instanceof Reading.Malformed m ? m.type() : null;
        HandlerOutcome h = f.handler();
        Duration took = h == null ? null : h.took();
        Duration lag = h == null || env == null ? null : Duration.between(env.publishedAt(), h.startedAt());
        java.time.Instant notBefore = f.reading().schedule().notBefore();
        Duration lateness = h == null || notBefore == null ? null : Duration.between(notBefore, h.startedAt());
        DeliveryFacts.ClaimAnswer claim = f.claim();
        long absorbed = h != null && claim != null && claim.run() != null
                && claim.result() instanceof dev.hopper.coordination.CoalesceClaim.Claimed c && !c.again()
                ? claim.run().absorbed() : 0;
        Duration lockCheck = f.lock() == null ? null
                : Duration.ofNanos(Math.max(0, f.lockAnsweredAtNanos() - f.lockRequestedAtNanos()));
        try {
            hooks.listener().onSettled(new WorkerListener.Settled(queue, reader.typeTag(type), d.outcome(),
                    reasonTag(d), took, lag, d.attempts(), lateness, absorbed, lockCheck));
        } catch (RuntimeException e) {
            log.warn("worker listener failed: {}", e.toString());
        }
    }

    /** The {@code reason} of a settlement: a bounded enum's wire value, or {@code none}. */
    static String reasonTag(Decision d) {
        if (d instanceof Decision.RetryLater r) {
            return r.reason().wireValue();
        }
        if (d instanceof Decision.DeadLetter dl) {
            return dl.reason().wireValue();
        }
        if (d instanceof Decision.Republish r) {
            return r.reason().wireValue();
        }
        if (d instanceof Decision.Quarantine) {
            return "suspect";
        }
        if (d instanceof Decision.HandBack h) {
            return h.why().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
        return WorkerListener.Settled.NO_REASON;
    }
}
