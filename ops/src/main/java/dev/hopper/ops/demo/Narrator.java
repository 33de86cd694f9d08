package dev.hopper.ops.demo;

import dev.hopper.consumer.Outcome;
import dev.hopper.consumer.WorkerListener;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Prints one line per settled run of the demo's worker (type, attempt, what happened, where the task went) and
 * counts outcomes. Runs on worker threads; printing is synchronized so lines never interleave.
 */
final class Narrator implements WorkerListener {
    private final PrintWriter out;
    private final QueueSpec spec;
    private final DemoShop shop;
    final AtomicInteger succeeded = new AtomicInteger();
    final AtomicInteger retried = new AtomicInteger();
    final AtomicInteger dead = new AtomicInteger();
    private volatile boolean replaying;

    Narrator(PrintWriter out, QueueSpec spec, DemoShop shop) {
        this.out = out;
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
            line(String.format("  %-14s attempt %d  %s", e.type(), Math.max(1, e.attempts()), what));
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

    synchronized void line(String text) {
        out.println(text);
        out.flush();
    }
}
