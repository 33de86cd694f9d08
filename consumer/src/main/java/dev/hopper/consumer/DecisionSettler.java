package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.Headers;
import dev.hopper.topology.TaskEnvelope;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a terminal {@link Decision} for one delivery: publishes the copy it names (confirmed), then settles
 * the original exactly once through its {@link Settlement}. It chooses nothing: every branch here is a decision
 * type, and the only fallback is the contract of design.md step 5, "a copy is always confirmed by the broker before
 * the original is acked; if that publish fails, the original goes back with basic.reject + requeue" (for a
 * hand-back copy: nack + requeue, which counts no failed delivery on 4.3+).
 *
 * <p>{@link #settle} runs on a delivery thread and waits for a copy's confirm at most {@code confirmWait};
 * {@link #settleWithoutWaiting} never waits. Thread-safe.
 */
final class DecisionSettler {
    private static final Logger log = LoggerFactory.getLogger(DecisionSettler.class);

    private final String queue;
    private final RetryRouter retries;
    private final DeadLetterPublisher deadLetters;
    private final Duration confirmWait;

    DecisionSettler(String queue, RetryRouter retries, DeadLetterPublisher deadLetters, Duration confirmWait) {
        this.queue = queue;
        this.retries = retries;
        this.deadLetters = deadLetters;
        this.confirmWait = confirmWait;
    }

    /** One delivery as it arrived: how to settle it, and what a copy is made from. */
    record Delivery(Settlement settlement, AMQP.@Nullable BasicProperties props, byte[] body) {}

    /**
     * Carries {@code d} out if that cannot wait: an {@link Decision.Ack}, recorded without sending its frame on this
     * thread ({@link Settlement#ackWithoutSending}). For a thread that must not wait (a store client's I/O thread).
     *
     * @return true when settled; false for any other decision, which is left untouched for {@link #settle}
     */
    boolean settleWithoutWaiting(Delivery delivery, Decision d) {
        if (!(d instanceof Decision.Ack a)) {
            return false;
        }
        delivery.settlement().ackWithoutSending();
        if (a.outcome() == Outcome.SUPERSEDED) {
            log.debug("task superseded queue={} id={}", queue, delivery.settlement().messageId());
        }
        return true;
    }

    /**
     * Carries {@code d} out.
     *
     * @return true when the delivery was settled as decided (or, for a hand-back, returned either way); false when
     *     a copy was not confirmed and the original went back with reject+requeue
     */
    boolean settle(Delivery delivery, Decision d, DeliveryFacts facts) {
        Settlement s = delivery.settlement();
        AMQP.BasicProperties props = delivery.props();
        String id = messageId(facts);
        if (d instanceof Decision.Ack a) {
            s.ack();
            if (a.outcome() == Outcome.SUPERSEDED) {
                log.debug("task superseded queue={} id={}", queue, id);
            }
            return true;
        }
        if (d instanceof Decision.RetryLater r) {
            if (!confirmThenAck(s, retries.retryLater(queue, requireProps(props), delivery.body(), r), id, "retry")) {
                return false;
            }
            if (r.outcome() == Outcome.LOCK_BUSY) {
                log.debug("task lock busy queue={} id={} tier={} waits={}", queue, id, r.tier(), r.lockWaits());
            } else {
                log.warn("task retry scheduled queue={} id={} type={} attempt={} tier={} reason={} error={}", queue,
                        id, type(facts), r.nextAttempt(), r.tier(), r.reason().wireValue(),
                        r.error() == null ? "" : r.error().toString());
            }
            return true;
        }
        if (d instanceof Decision.DeadLetter dl) {
            if (!confirmThenAck(s, deadLetters.deadLetter(queue, props, delivery.body(), dl), id, "dead-letter")) {
                return false;
            }
            log.warn("task dead-lettered queue={} id={} type={} reason={} error={}", queue, id, type(facts),
                    dl.reason().wireValue(), dl.errorMessage() == null ? "" : Headers.truncate(dl.errorMessage(), 300));
            return true;
        }
        if (d instanceof Decision.Republish rp) {
            if (!confirmThenAck(s, retries.requeueNow(queue, requireProps(props), delivery.body(), rp.reason(),
                    rp.firstAttemptAt()), id, "requeue")) {
                return false;
            }
            log.info("task requeued at once queue={} id={} reason={}", queue, id, rp.reason().wireValue());
            return true;
        }
        if (d instanceof Decision.Hop hop) {
            if (!confirmThenAck(s, retries.hop(queue, requireProps(props), delivery.body(), hop), id, "hop")) {
                return false;
            }
            log.debug("task early, hopped queue={} id={} tier={} notBefore={} hops={}", queue, id, hop.tier(),
                    hop.notBefore(), hop.hops());
            return true;
        }
        if (d instanceof Decision.Quarantine q) {
            if (!confirmThenAck(s, retries.quarantine(queue, requireProps(props), delivery.body(), q), id,
                    "quarantine")) {
                return false;
            }
            log.warn("task redelivered past poison-after, quarantined: it runs alone on its worker next queue={} id={}"
                    + " type={} solo-starts={}", queue, id, type(facts), q.soloStarts());
            return true;
        }
        Decision.HandBack hb = (Decision.HandBack) d;
        if (hb.via() == Decision.HandBack.Via.NACK || props == null) {
            s.nackRequeue();
            return true;
        }
        // A copy at the tail of the work queue, then ack: before 4.3 every nack raises x-delivery-count, so a few
        // breaker cycles or store outages would push healthy tasks past the poison guard.
        try {
            retries.handBack(queue, props, delivery.body()).get(confirmWait.toMillis(), TimeUnit.MILLISECONDS);
            s.ack();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("hand-back copy not confirmed, nacking instead queue={} id={}: {}", queue, id, e.toString());
            s.nackRequeue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.nackRequeue();
        } catch (RuntimeException e) {
            log.debug("hand-back copy not published, nacking instead queue={} id={}: {}", queue, id, e.toString());
            s.nackRequeue();
        }
        return true;
    }

    /**
     * Waits for the copy's confirm, then acks the original. If the copy was not confirmed the original goes back
     * with reject+requeue: the task is never lost, and the broker's delivery limit bounds the loop.
     */
    private boolean confirmThenAck(Settlement s, CompletableFuture<Void> copy, String messageId, String what) {
        try {
            copy.get(confirmWait.toMillis(), TimeUnit.MILLISECONDS);
            s.ack();
            return true;
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            log.warn("{} copy not confirmed, original requeued queue={} id={}: {}", what, queue, messageId,
                    String.valueOf(cause));
            s.rejectRequeue();
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            copy.cancel(false);
            s.rejectRequeue();
            return false;
        }
    }

    private static AMQP.BasicProperties requireProps(AMQP.@Nullable BasicProperties props) {
        if (props == null) {
            // Only a delivery with readable properties gets this far (no properties is malformed).
            throw new IllegalStateException("a retry copy needs the delivery's properties");
        }
        return props;
    }

    static String messageId(DeliveryFacts f) {
        TaskEnvelope env = f.envelope();
        if (env != null) {
            return env.messageId();
        }
        String id = f.reading() instanceof Reading.Malformed m ? m.messageId() : null;
        return id == null ? "?" : id;
    }

    private static String type(DeliveryFacts f) {
        TaskEnvelope env = f.envelope();
        String t = env != null ? env.type() : f.reading() instanceof Reading.Malformed m ? m.type() : null;
        return t == null ? "" : Headers.truncate(t, 100);
    }
}
