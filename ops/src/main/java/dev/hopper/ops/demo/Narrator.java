package dev.hopper.ops.demo;

import dev.hopper.consumer.Outcome;
import dev.hopper.consumer.WorkerListener;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.ops.cli.Output;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Prints one line per settled run of the demo's worker (type, attempt, what happened, where the task went) and
 * counts outcomes; under {@code --json}, one {@code {"event": "run", ...}} object per run instead, and the tour's
 * sentences are left out. Runs on worker threads; printing is synchronized so lines never interleave.
 */
final class Narrator implements WorkerListener {
    private final PrintWriter out;
    private final @Nullable Output json;
    private final QueueSpec spec;
    private final DemoShop shop;
    final AtomicInteger succeeded = new AtomicInteger();
    final AtomicInteger retried = new AtomicInteger();
    final AtomicInteger dead = new AtomicInteger();
    private volatile boolean replaying;

    /** @param json the JSON-lines output under {@code --json}, else null for text */
    Narrator(PrintWriter out, @Nullable Output json, QueueSpec spec, DemoShop shop) {
        this.out = out;
        this.json = json;
        this.spec = spec;
        this.shop = shop;
    }

    @Override
    public void onSettled(Settled e) {
        String error = shop.takeLastError();
        String what;
        AtomicInteger counter;
        if (e.outcome() == Outcome.SUCCESS) {
            counter = succeeded;
            what = replaying ? "ok (replayed)" : "ok";
        } else if (e.outcome() == Outcome.RETRIED) {
            counter = retried;
            DelayTier tier = tierAfter(e.attempts());
            what = error + " -> retry in " + tier.label() + " via " + spec.retryQueue(tier);
        } else if (e.outcome() == Outcome.DEAD) {
            counter = dead;
            what = (error == null ? "rejected" : error) + " -> dead letter";
        } else {
            counter = null;
            what = e.outcome().tagValue();
        }
        synchronized (this) {
            if (json != null) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("event", "run");
                m.put("type", e.type());
                m.put("attempt", Math.max(1, e.attempts()));
                m.put("outcome", e.outcome().tagValue());
                m.put("detail", what);
                json.record(m);
            } else {
                line(String.format("  %-14s attempt %d  %s", e.type(), Math.max(1, e.attempts()), what));
            }
            // Counted after printing: the demo moves on when the counts say so, and its lines must come after.
            if (counter != null) {
                counter.incrementAndGet();
            }
        }
    }

    /** From now on successes are runs of replayed dead letters. */
    void replaying() {
        replaying = true;
    }

    /**
     * The tier a retry after {@code attempts} runs waits in: the policy's delay for that attempt (the last one
     * repeats), rounded up to a tier, as the worker does.
     */
    DelayTier tierAfter(int attempts) {
        RetryPolicy p = spec.retry();
        Duration wanted = p.delays().get(Math.min(Math.max(attempts, 1), p.delays().size()) - 1);
        return DelayTier.pick(spec.tiers(), wanted);
    }

    /** A sentence of the tour; left out under {@code --json}. */
    synchronized void line(String text) {
        if (json != null) {
            return;
        }
        out.println(text);
        out.flush();
    }

    /** A fact of the tour as a JSON object with an {@code event} field; printed only under {@code --json}. */
    synchronized void record(String event, Map<String, ?> fields) {
        if (json == null) {
            return;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", event);
        m.putAll(fields);
        json.record(m);
    }
}
