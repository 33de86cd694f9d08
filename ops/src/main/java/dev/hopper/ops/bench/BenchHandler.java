package dev.hopper.ops.bench;

import dev.hopper.consumer.TaskContext;
import dev.hopper.consumer.TaskHandler;
import java.time.Duration;

/** The benchmark's handler: returns at once ({@code noop}) or sleeps ({@code sleep}). Thread-safe (stateless). */
final class BenchHandler implements TaskHandler<BenchPayload> {
    private final long sleepMillis;

    BenchHandler(BenchSettings.HandlerKind kind, Duration sleep) {
        this.sleepMillis = kind == BenchSettings.HandlerKind.SLEEP ? sleep.toMillis() : 0;
    }

    @Override
    public void handle(BenchPayload payload, TaskContext context) throws InterruptedException {
        if (sleepMillis > 0) {
            Thread.sleep(sleepMillis);
        }
    }
}
