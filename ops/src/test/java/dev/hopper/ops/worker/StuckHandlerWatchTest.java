package dev.hopper.ops.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.consumer.TaskHandler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class StuckHandlerWatchTest {

    @Test
    void aHandlerStillRunningPastItsTimeoutPlusGraceIsStuckUntilItReturns() throws Exception {
        AtomicLong now = new AtomicLong();
        StuckHandlerWatch watch = new StuckHandlerWatch(Duration.ofSeconds(5), Duration.ofSeconds(2), now::get);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        TaskHandler<String> ignoresInterrupts = watch.watch((payload, ctx) -> {
            entered.countDown();
            release.await(20, TimeUnit.SECONDS);
        });
        CompletableFuture<Void> run = CompletableFuture.runAsync(() -> {
            try {
                ignoresInterrupts.handle("x", null);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(watch.stuck()).isZero();
        now.addAndGet(Duration.ofSeconds(7).toNanos()); // exactly timeout + grace: not yet
        assertThat(watch.stuck()).isZero();
        now.addAndGet(1);
        assertThat(watch.stuck()).isEqualTo(1);
        release.countDown();
        run.get(10, TimeUnit.SECONDS);
        assertThat(watch.stuck()).isZero();
    }

    @Test
    void aFailingHandlerIsNotLeftRecorded() {
        AtomicLong now = new AtomicLong();
        StuckHandlerWatch watch = new StuckHandlerWatch(Duration.ofSeconds(1), Duration.ZERO, now::get);
        TaskHandler<String> failing = watch.watch((payload, ctx) -> {
            throw new IllegalStateException("boom");
        });
        try {
            failing.handle("x", null);
        } catch (Exception expected) {
            assertThat(expected).hasMessage("boom");
        }
        now.addAndGet(Duration.ofHours(1).toNanos());
        assertThat(watch.stuck()).isZero();
    }
}
