package dev.hopper.consumer;

import dev.hopper.coordination.LockRequest;
import dev.hopper.coordination.LockResult;
import dev.hopper.coordination.StoreUnavailableException;
import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Carries out {@link Effect.AwaitLock}: a delivery whose key is busy waits on its handler thread and asks the store
 * again, at growing intervals (2 ms × 1.5 up to 50 ms, started over at every hand-over, never past the holder's
 * lease), until the lock is its own, the lock has not changed hands for {@code quiet}, {@code cap} has passed, or the
 * worker shuts down. The decider decides what the last answer means.
 *
 * <p>Why polling and not a release notification (Redis pub/sub): it needs no second connection, no change to the
 * release scripts and nothing that can be missed; it costs ~60 checks a second per waiting delivery on a key that
 * changes hands every 50 ms (the intervals start over), 20 a second on a quiet key, and a
 * worker has at most one waiting delivery per key ({@link KeyLanes}) and at most {@code concurrency} in all. The
 * price is up to one interval (≤ 50 ms) of latency after a release, and no fairness between workers: a worker that
 * releases a key and has the next task for it in hand often takes it again. That delays a waiter but never stops
 * the key from moving, and the wait starts over at each hand-over, so the waiter keeps its place in hand until
 * the key falls quiet or one lease has passed.
 *
 * <p>Thread-safe (no state between calls); blocks the calling handler thread for at most {@code cap}, plus one
 * store call's timeout.
 */
final class BusyKeyWait {
    private static final IntervalFunction POLLS =
            IntervalFunction.ofExponentialBackoff(Duration.ofMillis(2), 1.5, Duration.ofMillis(50));

    /** The last answer, when it was asked and answered (monotonic nanos), and how the wait went. */
    record Result(LockResult last, long requestedAtNanos, long answeredAtNanos, DeliveryFacts.LockWait lockWait) {}

    private final Function<LockRequest, LockResult> checkAndLock;
    private final LongSupplier nanoTime;
    private final BooleanSupplier shuttingDown;

    /** @param checkAndLock the store call (the worker's batched store), may throw {@link StoreUnavailableException} */
    BusyKeyWait(Function<LockRequest, LockResult> checkAndLock, LongSupplier nanoTime, BooleanSupplier shuttingDown) {
        this.checkAndLock = checkAndLock;
        this.nanoTime = nanoTime;
        this.shuttingDown = shuttingDown;
    }

    /**
     * @param first the busy answer that started the wait
     * @throws StoreUnavailableException when the store stops answering during the wait
     */
    Result await(Effect.AwaitLock w, LockResult.Busy first, long firstRequestedAt, long firstAnsweredAt) {
        Effect.CheckAndLock c = w.check();
        LockRequest request = new LockRequest(c.key(), c.revision(), c.owner(), c.lease(), c.lockIfSuperseded());
        long start = nanoTime.getAsLong();
        long capAt = start + w.cap().toNanos();
        long quietUntil = start + w.quiet().toNanos();
        long holder = first.holderToken();
        LockResult last = first;
        long requestedAt = firstRequestedAt;
        long answeredAt = firstAnsweredAt;
        int handOvers = 0;
        int poll = 0;
        boolean stopped = false;
        while (true) {
            long now = nanoTime.getAsLong();
            long until = Math.min(quietUntil, capAt);
            if (now >= until) {
                break;
            }
            if (shuttingDown.getAsBoolean()) {
                stopped = true;
                break;
            }
            long pause = Math.min(TimeUnit.MILLISECONDS.toNanos(POLLS.apply(++poll)), until - now);
            // A lease that runs out before the next poll would: look again just after it does.
            pause = Math.min(pause, ((LockResult.Busy) last).remainingLease().toNanos() + 1_000_000);
            try {
                TimeUnit.NANOSECONDS.sleep(Math.max(pause, 0));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = true;
                break;
            }
            requestedAt = nanoTime.getAsLong();
            last = checkAndLock.apply(request);
            answeredAt = nanoTime.getAsLong();
            if (!(last instanceof LockResult.Busy b)) {
                break;
            }
            if (b.holderToken() != holder) {
                // Another run took the lock since we looked: the key is moving; our turn is near.
                holder = b.holderToken();
                handOvers++;
                quietUntil = answeredAt + w.quiet().toNanos();
                poll = 0;
            }
        }
        return new Result(last, requestedAt, answeredAt,
                new DeliveryFacts.LockWait(Duration.ofNanos(nanoTime.getAsLong() - start), handOvers, stopped));
    }
}
