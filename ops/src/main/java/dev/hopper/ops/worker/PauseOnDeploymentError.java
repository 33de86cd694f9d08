package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import dev.hopper.consumer.TaskContext;
import dev.hopper.consumer.TaskHandler;
import dev.hopper.consumer.Worker;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wraps the {@code --exec} handler: when the command cannot be run at all ({@link CommandNotRunnableException}),
 * pauses the task's queue (logged once per pause, at ERROR, with what to do) so the rest of the queue waits for a
 * fixed deployment instead of failing task after task. The failing task itself is retried (never dead-lettered
 * for this); tasks already in hand when the pause starts and not yet started go back unrun, without using an
 * attempt ({@link Worker#pauseHandingBack}). Resume by restarting the worker after
 * fixing the command. Thread-safe.
 */
final class PauseOnDeploymentError implements TaskHandler<byte[]> {
    private static final Logger log = LoggerFactory.getLogger(PauseOnDeploymentError.class);

    private final TaskHandler<byte[]> delegate;
    private final AtomicReference<Worker> worker;

    /** @param worker set once the worker is built (handlers are registered before) */
    PauseOnDeploymentError(TaskHandler<byte[]> delegate, AtomicReference<Worker> worker) {
        this.delegate = requireNonNull(delegate, "delegate");
        this.worker = requireNonNull(worker, "worker");
    }

    @Override
    public void handle(byte[] payload, TaskContext context) throws Exception {
        try {
            delegate.handle(payload, context);
        } catch (CommandNotRunnableException e) {
            Worker w = worker.get();
            if (w != null && w.isConsuming(context.queue())) {
                log.error("pausing queue={}: {}; tasks stay in the queue; fix the command (or the PATH, or the "
                        + "file's permissions) and restart the worker", context.queue(), e.getMessage());
                w.pauseHandingBack(context.queue(), "the --exec command cannot run (exit " + e.exitStatus() + ")");
            }
            throw e;
        }
    }
}
