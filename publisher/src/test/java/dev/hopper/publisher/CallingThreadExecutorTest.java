package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CallingThreadExecutorTest {

    @Test
    void runsEachTaskOnTheSubmittingThreadBeforeReturning() {
        CallingThreadExecutor executor = new CallingThreadExecutor();
        AtomicReference<Thread> ranOn = new AtomicReference<>();

        executor.execute(() -> ranOn.set(Thread.currentThread()));

        assertThat(ranOn.get()).isSameAs(Thread.currentThread());
    }

    @Test
    void refusesTasksOnceShutDownAndReportsTermination() throws Exception {
        CallingThreadExecutor executor = new CallingThreadExecutor();
        assertThat(executor.isShutdown()).isFalse();
        assertThat(executor.awaitTermination(10, TimeUnit.MILLISECONDS)).isFalse();

        assertThat(executor.shutdownNow()).isEmpty();

        assertThat(executor.isShutdown()).isTrue();
        assertThat(executor.isTerminated()).isTrue();
        assertThat(executor.awaitTermination(0, TimeUnit.MILLISECONDS)).isTrue();
        assertThatThrownBy(() -> executor.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
    }
}
