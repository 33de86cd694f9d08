package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import dev.hopper.topology.TaskEnvelope;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Takes one delivery from arrival to settlement, on a handler thread: reads it, then loops
 * {@code decide(facts)} → carry out the requested {@link Effect} → add its result to the facts, until the
 * {@link DeliveryDecider} answers a terminal {@link Decision}, which {@link DecisionSettler} carries out. It has no
 * branch that chooses a delivery's fate. Whatever happens, the delivery is settled at most once, the key's lock
 * is not left held, the circuit breaker hears about an admitted run, and an unexpected error (a bug in Hopper)
 * sends the delivery back with reject+requeue, which the crash-loop guard bounds.
 *
 * <p>Thread-safe: one instance per queue, shared by that queue's handler threads; all per-delivery state is local.
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

    void execute(SettlementSink sink, Envelope envelope, AMQP.@Nullable BasicProperties props, byte @Nullable [] body) {
        byte[] bytes = body == null ? new byte[0] : body;
        String idForLog = props == null || props.getMessageId() == null ? "?" : props.getMessageId();
        Settlement settlement = new Settlement(sink, envelope.getDeliveryTag(), idForLog);
        MDC.put("hopper.queue", queue);
        MDC.put("hopper.id", idForLog);
        DeliveryFacts facts = null;
        Throwable failure = null;
        try {
            facts = DeliveryFacts.arrived(new DeliveryFacts.Arrival(envelope.getDeliveryTag(),
                    envelope.isRedeliver(), DeliveryReader.deliveryCount(props), reader.read(props, bytes),
                    hooks.workerId() + "/" + idForLog + "/" + envelope.getDeliveryTag(),
                    hooks.shuttingDown().getAsBoolean(), DeliveryReader.suspectCrashes(props),
                    hooks.held().getAsBoolean()));
            Step step = decider.decide(facts);
            for (int n = 0; step instanceof Effect effect; n++) {
                if (n == MAX_EFFECTS) {
                    throw new IllegalStateException("no decision after " + MAX_EFFECTS + " effects: " + facts);
                }
                facts = effects.run(effect, facts, props == null ? null : props.getHeaders());
                step = decider.decide(facts);
            }
            Decision decision = (Decision) step;
            HandlerOutcome h = facts.handler();
            failure = h == null ? null : DeliveryDecider.failureOf(h, Duration.ZERO);
            effects.releaseHeldLock(facts);
            if (settler.settle(new DecisionSettler.Delivery(settlement, props, bytes), decision, facts)) {
                settled(facts, decision, failure);
            }
        } catch (RuntimeException | Error e) {
            // A bug in Hopper, not the task's fault: give the delivery back; the crash-loop guard bounds repeats.
            log.error("unexpected error processing delivery queue={} id={}", queue, idForLog, e);
            if (!settlement.isSettled()) {
                settlement.rejectRequeue();
            }
            if (facts != null) {
                effects.releaseHeldLock(facts);
            }
        } finally {
            if (facts != null) {
                effects.giveBackSlot(facts);
                effects.report(decider.breakerReport(facts), facts, failure);
            }
            MDC.remove("hopper.queue");
            MDC.remove("hopper.id");
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
