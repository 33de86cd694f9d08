package dev.hopper.publisher;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a close that waits for the broker (a channel's or connection's close-ok) with a bound. A broker that blocks
 * a connection during a memory or disk alarm stops reading from its socket and never answers a close, and
 * amqp-client's own channel RPC timeout defaults to 10 minutes: without a bound a shutdown hangs for the alarm's
 * whole length.
 *
 * <p>The close runs on a new daemon thread; when the bound passes the caller goes on and the thread is left to
 * finish (or to end with the connection). Failures of the close are logged at debug level: a close is best effort.
 */
final class BoundedClose {
    private static final Logger log = LoggerFactory.getLogger(BoundedClose.class);

    @FunctionalInterface
    interface CloseAction {
        void close() throws Exception;
    }

    private BoundedClose() {}

    /** @return true when the close finished (well or with an error) within {@code max} */
    static boolean run(String what, Duration max, CloseAction action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                action.close();
                done.complete(null);
            } catch (Exception | Error e) {
                done.completeExceptionally(e);
            }
        }, "hopper-close");
        t.setDaemon(true);
        t.start();
        try {
            done.get(max.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException e) {
            log.debug("error closing {}: {}", what, String.valueOf(e.getCause()));
            return true;
        } catch (TimeoutException e) {
            log.warn("gave up waiting for the broker to close {} after {}ms (a blocked broker never answers); "
                    + "going on without it", what, max.toMillis());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
