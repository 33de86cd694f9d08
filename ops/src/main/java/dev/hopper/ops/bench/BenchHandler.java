package dev.hopper.ops.bench;

import dev.hopper.consumer.TaskContext;
import dev.hopper.consumer.TaskHandler;
import dev.hopper.consumer.Worker;
import java.time.Duration;

/** The benchmark's handler: returns at once or sleeps, per {@link BenchSettings.HandlerKind}. Thread-safe. */
final class BenchHandler implements TaskHandler<BenchPayload> {
    private final long sleepMillis;

    BenchHandler(BenchSettings.HandlerKind kind, Duration sleep) {
        this.sleepMillis = kind == BenchSettings.HandlerKind.SLEEP ? sleep.toMillis() : 0;
    }

    /**
     * Registers the run's handler for {@link BenchPayload#TYPE}: typed ({@code BenchPayload}, bound by Jackson) for
     * {@code noop} and {@code sleep}; a {@code byte[]} handler for {@code raw}, which gets the body as it arrived
     * (checked to be well-formed JSON, not bound), as a handler written for speed or one that passes the body on.
     */
    static Worker.Builder register(Worker.Builder b, BenchSettings.HandlerKind kind, Duration sleep) {
        if (kind == BenchSettings.HandlerKind.RAW) {
            return b.handler(BenchPayload.TYPE, byte[].class, (body, ctx) -> { });
        }
        return b.handler(BenchPayload.TYPE, BenchPayload.class, new BenchHandler(kind, sleep));
    }

    @Override
    public void handle(BenchPayload payload, TaskContext context) throws InterruptedException {
        if (sleepMillis > 0) {
            Thread.sleep(sleepMillis);
        }
    }
}
