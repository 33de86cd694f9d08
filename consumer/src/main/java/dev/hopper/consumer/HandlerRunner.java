package dev.hopper.consumer;

import dev.hopper.coordination.LockResult;
import dev.hopper.topology.TaskEnvelope;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Carries out {@link Effect.RunHandler} on the calling handler thread: builds the {@link TaskContext}, registers
 * the run with the {@link DeadlineSweeper} (timeout, lease renewal) and runs the handler, catching whatever it
 * throws. Thread-safe; one per queue.
 */
final class HandlerRunner {
    private final String queue;
    private final Clock clock;
    private final DeadlineSweeper sweeper;
    private final LongSupplier nanoTime;
    private final BooleanSupplier shuttingDown;

    HandlerRunner(String queue, Clock clock, DeadlineSweeper sweeper, LongSupplier nanoTime,
            BooleanSupplier shuttingDown) {
        this.queue = queue;
        this.clock = clock;
        this.sweeper = sweeper;
        this.nanoTime = nanoTime;
        this.shuttingDown = shuttingDown;
    }

    /** Whether the worker is shutting down (a wait that would hold a delivery in hand ends early). */
    boolean shuttingDown() {
        return shuttingDown.getAsBoolean();
    }

    /** Keeps the lease of a lock taken for a run while its delivery waits for a thread. Never blocks. */
    DeadlineSweeper.QueuedHold holdQueued(Effect.HeldLock lock) {
        return sweeper.holdQueued(lock);
    }

    /** The wall clock runs are stamped with (also the time a coalesced claim is made at). */
    Clock clock() {
        return clock;
    }

    /** @param followUps collects what the run asks for; closed by the caller once this returns */
    HandlerOutcome run(Effect.RunHandler effect, Reading.Readable task, @Nullable Map<String, Object> headers,
            @Nullable LockResult lock, @Nullable FollowUpRequests followUps) {
        TaskEnvelope env = task.envelope();
        Instant startedAt = clock.instant();
        Effect.HeldLock held = effect.lock();
        CoalescedRun coalesced = effect.coalesced();
        TaskContext ctx = new TaskContext(queue, env, headers == null ? Map.of() : headers, startedAt,
                startedAt.plus(effect.timeout()), held != null && lock instanceof LockResult.Acquired a ? a : null,
                followUps, coalesced == null ? OptionalLong.empty() : OptionalLong.of(coalesced.absorbed()));
        Object payload = coalesced == null ? task.payload() : coalesced.payload();
        HandlerRun run = new HandlerRun(Thread.currentThread(), ctx);
        Throwable thrown = null;
        HandlerRun.Stop stop;
        long t0 = nanoTime.getAsLong();
        try (DeadlineSweeper.Watch watch = sweeper.watch(run, effect.timeout(), held)) {
            try {
                task.handler().run(payload, ctx);
            } catch (Throwable t) { // the handler's failure, whatever it is, is a fact to decide on
                thrown = t;
            } finally {
                // At once: nothing may stop the run between the handler's end and this.
                stop = run.finish();
            }
        }
        Duration took = Duration.ofNanos(nanoTime.getAsLong() - t0);
        return new HandlerOutcome(startedAt, clock.instant(), took, thrown, stop, shuttingDown.getAsBoolean());
    }
}
