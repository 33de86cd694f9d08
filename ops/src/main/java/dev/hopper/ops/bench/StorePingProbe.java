package dev.hopper.ops.bench;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The machine's floor for a store call, measured beside a paced run: a bare Redis {@code PING} every
 * {@link #INTERVAL} over a Lettuce connection of its own, timed like the worker's lock check (sent from a thread
 * that is not the client's, answered on the client's I/O thread). Printed next to the lock check, it tells what the
 * check costs above a round trip on this machine at this moment: on two cores shared with the broker, the bare
 * round trip alone can be above the 0.3 ms.
 *
 * <p>One ping at a time (a tick whose previous ping is still out is skipped), so a slow answer does not pile up
 * pings. About 200 pings a second: negligible next to the run's store calls, and only in paced runs
 * ({@code --rate}), never in the rate comparisons. Thread-safe; {@link #close} stops it.
 */
final class StorePingProbe implements AutoCloseable {
    static final Duration INTERVAL = Duration.ofMillis(5);

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final ScheduledExecutorService ticks;
    private final ConcurrentHistogram roundTripMicros = new ConcurrentHistogram(3);
    private final AtomicBoolean out = new AtomicBoolean();

    /** Connects to {@code redisUri}; fails like Lettuce does when Redis does not answer. */
    StorePingProbe(URI redisUri) {
        this.client = RedisClient.create(RedisURI.create(redisUri));
        try {
            this.connection = client.connect();
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            throw e;
        }
        this.ticks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hopper-bench-store-ping");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts pinging (again: what was recorded before is forgotten). */
    void start() {
        roundTripMicros.reset();
        RedisAsyncCommands<String, String> async = connection.async();
        ticks.scheduleAtFixedRate(() -> {
            if (!out.compareAndSet(false, true)) {
                return;
            }
            long sent = System.nanoTime();
            async.ping().whenComplete((pong, e) -> {
                if (e == null) {
                    roundTripMicros.recordValue(Math.max(0, (System.nanoTime() - sent) / 1000));
                }
                out.set(false);
            });
        }, 0, INTERVAL.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The round trips recorded so far, in microseconds (a copy). */
    Histogram roundTrips() {
        return roundTripMicros.copy();
    }

    @Override
    public void close() {
        ticks.shutdownNow();
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
