package dev.hopper.consumer;

import dev.hopper.coordination.StoreUnavailableException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers calls into batches like {@link CallBatcher}, but nobody waits: a batch is sent through an asynchronous
 * call and each request's continuation runs when the answer comes, on the thread that completes the answer (a store
 * client's I/O thread). No thread is parked per call, and none is woken to learn an answer it then only hands on.
 *
 * <p>Batching without a timer, as in {@link CallBatcher}: a request that finds fewer than {@code maxInFlight}
 * batches out is sent at once (a batch of one, or of whatever waits); requests that arrive while that many are out
 * go together (at most {@code maxBatch}) as soon as one is answered. The next batch is sent before the answered
 * one's continuations run, so the store works while they do.
 *
 * <p>Continuations must not block (they run on the client's I/O thread, and later answers wait behind them): hand
 * anything that waits to a thread of its own. What a continuation throws is logged and dropped. A batch whose call
 * throws, fails, or is not answered within {@code maxWait} (a safety bound above the store's own timeout) fails each
 * of its requests with that failure; a failure that is not a {@link RuntimeException} is wrapped in one.
 *
 * <p>Thread-safe; {@link #submit} never blocks (beyond a short lock), whatever thread calls it, as long as the batch
 * call itself does not.
 *
 * @param <Q> one call's request
 * @param <R> one call's answer
 */
final class AsyncBatcher<Q, R> {
    private static final Logger log = LoggerFactory.getLogger(AsyncBatcher.class);

    private final String name;
    private final Function<List<Q>, CompletionStage<List<R>>> batchCall;
    private final int maxBatch;
    private final int maxInFlight;
    private final long maxWaitNanos;
    private final Object lock = new Object();
    private final ArrayDeque<Pending<Q, R>> waiting = new ArrayDeque<>();
    /** Batches sent and not yet answered; guarded by lock. */
    private int inFlight;
    /** Requests submitted whose continuations have not all run yet; guarded by lock, notified at zero. */
    private int unanswered;

    /**
     * @param batchCall sends a batch without waiting: one answer per request, in order
     * @param maxBatch most requests in one batch
     * @param maxInFlight most batches out at once
     * @param maxWait longest a batch may stay unanswered (a safety bound above the store's own timeout)
     */
    AsyncBatcher(String name, Function<List<Q>, CompletionStage<List<R>>> batchCall, int maxBatch, int maxInFlight,
            Duration maxWait) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be at least 1, was " + maxBatch);
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1, was " + maxInFlight);
        }
        this.name = name;
        this.batchCall = batchCall;
        this.maxBatch = maxBatch;
        this.maxInFlight = maxInFlight;
        this.maxWaitNanos = maxWait.toNanos();
    }

    private record Pending<Q, R>(Q request, BiConsumer<@Nullable R, @Nullable RuntimeException> then) {}

    /**
     * Puts {@code request} into a batch; {@code then} gets its answer, or the batch's failure (answer null), once
     * the batch is answered: on the thread that completes it, which is this one, before this method returns, when
     * the batch call answers at once.
     */
    void submit(Q request, BiConsumer<@Nullable R, @Nullable RuntimeException> then) {
        List<Pending<Q, R>> batch;
        synchronized (lock) {
            waiting.add(new Pending<>(request, then));
            unanswered++;
            if (inFlight >= maxInFlight) {
                return; // goes out when a batch in flight is answered
            }
            inFlight++;
            batch = takeBatch();
        }
        send(batch);
    }

    /**
     * Waits until every request submitted so far has been answered and its continuation has run, or until
     * {@code deadlineNanos} ({@link System#nanoTime}). For a closing worker: a delivery whose lock call is out has
     * its answer come back, and is handed on, while the worker can still hand it back properly.
     *
     * @return whether nothing was left unanswered
     */
    boolean awaitAnswered(long deadlineNanos) throws InterruptedException {
        synchronized (lock) {
            while (unanswered > 0) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    /** Test seam: batches sent and not yet answered. */
    int inFlightForTests() {
        synchronized (lock) {
            return inFlight;
        }
    }

    /** Holding lock, with a sending slot: the oldest waiting requests, at most maxBatch. */
    private List<Pending<Q, R>> takeBatch() {
        List<Pending<Q, R>> batch = new ArrayList<>(Math.min(maxBatch, waiting.size()));
        while (batch.size() < maxBatch && !waiting.isEmpty()) {
            batch.add(waiting.poll());
        }
        return batch;
    }

    /**
     * Sends {@code batch} (this thread holds a sending slot for it); a batch call that answers at once is answered
     * in this loop, so a store that never waits does not grow the stack with each batch.
     */
    private void send(List<Pending<Q, R>> first) {
        List<Pending<Q, R>> batch = first;
        while (batch != null) {
            CompletableFuture<List<R>> answer = call(batch);
            if (!answer.isDone()) {
                List<Pending<Q, R>> sent = batch;
                answer.whenComplete((answers, failure) -> {
                    List<Pending<Q, R>> next = nextOrFree();
                    if (next != null) {
                        send(next); // before the continuations: the store works while they run
                    }
                    answer(sent, answers, failure);
                });
                return;
            }
            List<Pending<Q, R>> next = nextOrFree();
            Throwable failure = failedOrNull(answer);
            answer(batch, failure == null ? answer.join() : null, failure);
            batch = next;
        }
    }

    private static @Nullable Throwable failedOrNull(CompletableFuture<?> done) {
        try {
            done.join();
            return null;
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            return e;
        }
    }

    private CompletableFuture<List<R>> call(List<Pending<Q, R>> batch) {
        List<Q> requests = new ArrayList<>(batch.size());
        for (Pending<Q, R> p : batch) {
            requests.add(p.request());
        }
        try {
            return batchCall.apply(requests).toCompletableFuture().orTimeout(maxWaitNanos, TimeUnit.NANOSECONDS);
        } catch (RuntimeException | Error e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** After a batch was answered: the next batch to send with the slot it held, or null (the slot is freed). */
    private @Nullable List<Pending<Q, R>> nextOrFree() {
        synchronized (lock) {
            if (waiting.isEmpty()) {
                inFlight--;
                return null;
            }
            return takeBatch();
        }
    }

    private void answer(List<Pending<Q, R>> batch, @Nullable List<R> answers, @Nullable Throwable failed) {
        RuntimeException failure = failed == null ? null : asFailure(failed);
        if (failure == null && (answers == null || answers.size() != batch.size())) {
            failure = new IllegalStateException(name + ": " + (answers == null ? "no" : answers.size())
                    + " answers for " + batch.size() + " calls");
        }
        for (int i = 0; i < batch.size(); i++) {
            Pending<Q, R> p = batch.get(i);
            try {
                p.then().accept(failure == null ? answers.get(i) : null, failure);
            } catch (RuntimeException | Error e) {
                // Not the store's failure and not the other requests' business: they still get their answers.
                log.error("{}: continuation of a batched call failed", name, e);
            }
        }
        synchronized (lock) {
            unanswered -= batch.size();
            if (unanswered == 0) {
                lock.notifyAll();
            }
        }
    }

    /** The failure a batch's requests get: the cause of a completion wrapper, a timeout as the store's silence. */
    private RuntimeException asFailure(Throwable failed) {
        Throwable t = failed;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof TimeoutException) {
            return new StoreUnavailableException(name + ": no answer within " + Duration.ofNanos(maxWaitNanos));
        }
        return t instanceof RuntimeException r ? r : new IllegalStateException(name + ": batch call failed", t);
    }
}
