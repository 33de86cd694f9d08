package dev.hopper.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestRedis;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Small benchmark runs against the real broker (and Redis): they complete, every published task completes once,
 * and the run's queues are gone afterwards. Never asserts on timing.
 */
class BenchmarkIT {
    private final TestBroker broker = TestBroker.get();

    @Test
    void keyedTasksWithTheMemoryStoreInProcessAfterAWarmUp() throws Exception {
        BenchReport r = run(BenchSettings.builder().tasks(300).keyed(true).keys(100)
                .store(BenchSettings.Store.MEMORY).concurrency(4).prefetch(16).warmup(50).build());

        assertClean(r, 300);
        assertThat(r.lockCheck().count()).as("one lock check per keyed task").isEqualTo(300);
        assertThat(r.cpuSource()).isEqualTo("threads");
        assertThat(r.workerCpuSeconds()).isPositive();
        assertThat(r.publisherCpuSeconds()).isPositive();
    }

    @Test
    void publishOnlyKeyedTasksStartsNoWorker() throws Exception {
        BenchReport r = run(BenchSettings.builder().tasks(300).keyed(true).keys(100)
                .store(BenchSettings.Store.MEMORY).publishOnly(true).build());

        assertThat(r.published()).isEqualTo(300);
        assertThat(r.publishFailures()).isZero();
        assertThat(r.publishRate()).isPositive();
        assertThat(r.completed()).isZero();
        assertThat(r.latency().count()).isZero();
        assertThat(r.config()).containsEntry("workers", "none (publish only)");
        assertThat(r.clean()).isTrue();
    }

    @Test
    void rawHandlerCompletesEveryTask() throws Exception {
        BenchReport r = run(BenchSettings.builder().tasks(300).handler(BenchSettings.HandlerKind.RAW).build());

        assertClean(r, 300);
        assertThat(r.config()).containsEntry("handler", "raw");
    }

    @Test
    void keyedTasksWithRedisAndTwoPublishers() throws Exception {
        BenchReport r = run(BenchSettings.builder().tasks(300).keyed(true).keys(100)
                .store(BenchSettings.Store.REDIS).redisUri(TestRedis.get().uri()).publishers(2).build());

        assertClean(r, 300);
    }

    @Test
    void oneWorkerJvmAfterAWarmUp() throws Exception {
        BenchReport r = run(BenchSettings.builder().tasks(300).workers(1).warmup(100).build());

        assertClean(r, 300);
        assertThat(r.lockCheck().count()).as("unkeyed: no lock checks").isZero();
        assertThat(r.cpuSource()).isEqualTo("processes");
        assertThat(r.workerCpuSeconds()).isPositive();
        assertThat(r.heapEndBytes()).isPositive();
    }

    @Test
    void keyedTasksInAWorkerJvmSendTheirLockChecksBack() throws Exception {
        BenchReport r = run(BenchSettings.builder().tasks(200).keyed(true).keys(50).workers(1)
                .store(BenchSettings.Store.REDIS).redisUri(TestRedis.get().uri()).build());

        assertClean(r, 200);
        assertThat(r.lockCheck().count()).isEqualTo(200);
    }

    @Test
    void rateLimitedRunForADuration() throws Exception {
        BenchReport r = run(BenchSettings.builder().duration(Duration.ofSeconds(2)).rate(100)
                .handler(BenchSettings.HandlerKind.SLEEP).sleep(Duration.ofMillis(1)).build());

        assertThat(r.published()).isPositive();
        assertClean(r, r.published());
    }

    private BenchReport run(BenchSettings template) throws IOException {
        BenchSettings s = new BenchSettings(broker.uri(), template.redisUri(), template.tasks(), template.duration(),
                template.publishers(), template.concurrency(), template.prefetch(), template.workers(),
                template.payloadBytes(), template.keyed(), template.keys(), template.store(), template.handler(),
                template.sleep(), template.rate(), template.workerJvmArgs(), template.warmup(),
                template.publishOnly());
        BenchReport r = new Benchmark(s).run();
        assertQueuesDeleted(r.queue());
        return r;
    }

    private static void assertClean(BenchReport r, long tasks) {
        assertThat(r.published()).isEqualTo(tasks);
        assertThat(r.completed()).isEqualTo(tasks);
        assertThat(r.publishFailures()).isZero();
        assertThat(r.otherOutcomes()).isEmpty();
        assertThat(r.latency().count()).isEqualTo(tasks);
        assertThat(r.handler().count()).isEqualTo(tasks);
        assertThat(r.clean()).isTrue();
    }

    private void assertQueuesDeleted(String queue) throws IOException {
        try (Connection c = broker.connect("bench-it-check")) {
            for (String q : new String[] {queue, queue + ".dead", queue + ".retry.5s"}) {
                Channel ch = c.createChannel();
                assertThatThrownBy(() -> ch.queueDeclarePassive(q)).as(q).isInstanceOf(IOException.class);
            }
        }
    }
}
