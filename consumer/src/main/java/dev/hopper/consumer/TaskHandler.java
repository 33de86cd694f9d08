package dev.hopper.consumer;

/**
 * Runs one task type. Called on a worker thread, never on the connection's I/O thread; the same handler
 * instance runs concurrently on up to {@code concurrency} threads, so it must be thread-safe.
 *
 * <p>Return normally for success (the delivery is acked only then). Throw to fail: {@link PermanentTaskException}
 * (or a class in the queue's {@code permanent-on}) dead-letters at once; anything else is retried under the
 * queue's policy. A handler past its timeout is interrupted: respond to {@link Thread#interrupted()} or
 * {@link TaskContext#isCancelled()}. Tasks can run more than once (at-least-once delivery): make the effect
 * idempotent, and pass {@link TaskContext#fencingToken()} to downstream writes for keyed tasks.
 *
 * @param <T> the payload type, read from the task's JSON body with Jackson
 */
@FunctionalInterface
public interface TaskHandler<T> {
    void handle(T payload, TaskContext context) throws Exception;
}
