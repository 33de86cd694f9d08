package dev.hopper.publisher;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs each task on the thread that submits it: amqp-client's consumer work service, given this as its executor,
 * runs consumers' callbacks on the connection's I/O thread ({@link BrokerConfig.Builder#dispatchOnIoThread}).
 *
 * <p>amqp-client's work pool keeps a channel's callbacks in order and one at a time: a callback queued while another
 * thread runs that channel's block is run by that thread when its block ends, so callbacks may also run on a
 * thread that closes a channel. Neither this executor nor amqp-client stops them on {@link #shutdown()} (amqp-client
 * never shuts down an executor it was given); it only refuses new tasks, as an {@code ExecutorService} must.
 * Thread-safe.
 */
final class CallingThreadExecutor extends AbstractExecutorService {
    private final CountDownLatch shut = new CountDownLatch(1);

    @Override
    public void execute(Runnable task) {
        if (isShutdown()) {
            throw new RejectedExecutionException("executor shut down");
        }
        task.run();
    }

    @Override
    public void shutdown() {
        shut.countDown();
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return shut.getCount() == 0;
    }

    /** Shut down; a task still running on its caller's thread is that caller's (nothing here tracks it). */
    @Override
    public boolean isTerminated() {
        return isShutdown();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return shut.await(timeout, unit);
    }
}
