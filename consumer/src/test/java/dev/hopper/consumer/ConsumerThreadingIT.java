package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Nothing the broker does slowly or abruptly stalls the worker's health answer or its consuming. */
@ExtendWith(TestQueues.class)
class ConsumerThreadingIT {

    record Job(int n) {}

    /**
     * Every broker reply takes 1.5 s (a proxy holds them back), so each pause and resume waits for slow RPCs. The
     * health answer must not wait for them: it is asked over and over meanwhile and must answer every time within a
     * generous second (it used to block on the monitor that pause and resume held across their RPCs).
     */
    @Test
    void healthAnswersWhileConsumersArePausedAndResumedOverASlowBroker(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("health")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        ExecutorService threads = Executors.newCachedThreadPool();
        try (TestTasks tasks = new TestTasks(broker, "health-it-publisher");
                DelayingProxy proxy = new DelayingProxy(broker.uri().getHost(), port(broker.uri()));
                Worker w = Worker.builder().broker(BrokerConfig.builder(viaProxy(broker.uri(), proxy.port()))
                        .connectionName("health-it").heartbeat(Duration.ofSeconds(30)).build())
                        .config(config).handler("job", Job.class, (job, ctx) -> { }).build()) {
            tasks.declare(config);
            w.start();
            proxy.delayReplies(Duration.ofMillis(1500));
            AtomicBoolean toggling = new AtomicBoolean(true);
            Future<?> toggler = threads.submit(() -> {
                try {
                    for (int i = 0; i < 3; i++) {
                        w.pause(spec.name(), "test");
                        w.resume(spec.name(), "test");
                    }
                } finally {
                    toggling.set(false);
                }
                return null;
            });
            int answered = 0;
            int late = 0;
            while (toggling.get()) {
                Future<Boolean> health = threads.submit(w::isHealthy);
                try {
                    health.get(1, TimeUnit.SECONDS);
                    answered++;
                } catch (TimeoutException e) {
                    late++;
                }
                Thread.sleep(50);
            }
            toggler.get(120, TimeUnit.SECONDS);
            assertThat(late).as("health calls not answered within 1 s").isZero();
            assertThat(answered).as("health calls made while pausing and resuming").isGreaterThan(10);
            proxy.delayReplies(Duration.ZERO);
            await().atMost(Duration.ofSeconds(30)).until(() -> w.isConsuming(spec.name()));
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * The broker closes a queue's channel (a channel error provoked with an unknown delivery tag) again and again,
     * while the same queue is paused and resumed (new subscriptions, new channels) in a loop and tasks keep coming.
     * Channel shutdown callbacks arrive on the connection's I/O thread; if one of them waited for a lock held by a
     * thread waiting for a reply on that same I/O thread, every queue on the connection would stall. The worker
     * must keep consuming every queue.
     */
    @Test
    void workerKeepsConsumingWhileTheBrokerClosesChannelsDuringResubscribes(TestBroker broker, TestQueues queues)
            throws Exception {
        List<QueueSpec> specs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // Channels closed every few ms redeliver the same prefetched tasks many times over; with the in-memory
            // store the crash-loop guard counts redeliveries (a documented fallback), so it is raised out of the
            // way here: this test is about threads, and a healthy task dead-lettered as poison would fail it.
            specs.add(queues.track(TestTasks.quickQueue(queues.name("churn" + i)).concurrency(2).prefetch(4)
                    .poisonAfter(1000).deliveryLimit(2000).build()));
        }
        HopperConfig config = HopperConfig.of(specs);
        Set<String> done = ConcurrentHashMap.newKeySet();
        ExecutorService threads = Executors.newCachedThreadPool();
        try (TestTasks tasks = new TestTasks(broker, "churn-it-publisher");
                Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("churn-it").build())
                        .config(config).drainTimeout(Duration.ofSeconds(10))
                        .handler("job", Job.class, (job, ctx) -> done.add(ctx.messageId())).build()) {
            tasks.declare(config);
            w.start();
            String churned = specs.get(0).name();
            AtomicBoolean churning = new AtomicBoolean(true);
            AtomicInteger closes = new AtomicInteger();
            Future<?> resubscriber = threads.submit(() -> {
                while (churning.get()) {
                    w.pause(churned, "churn");
                    w.resume(churned, "churn");
                    Thread.sleep(10);
                }
                return null;
            });
            Future<?> closer = threads.submit(() -> {
                while (churning.get()) {
                    Channel ch = w.consumerChannelForTests(churned);
                    if (ch != null && ch.isOpen()) {
                        try {
                            ch.basicAck(1_000_000L + closes.get(), false); // unknown tag: PRECONDITION_FAILED
                            closes.incrementAndGet();
                        } catch (RuntimeException | java.io.IOException e) {
                            // closed under us: fine, try the next channel
                        }
                    }
                    Thread.sleep(20);
                }
                return null;
            });
            List<String> ids = new ArrayList<>();
            long until = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            int n = 0;
            while (System.nanoTime() < until) {
                for (QueueSpec q : specs) {
                    ids.add(tasks.publish(q.name(), "job", "{\"n\":" + n++ + "}"));
                }
                Thread.sleep(100);
            }
            churning.set(false);
            resubscriber.get(120, TimeUnit.SECONDS);
            closer.get(30, TimeUnit.SECONDS);

            assertThat(closes.get()).as("channel errors provoked").isGreaterThan(5);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(done).containsAll(ids));
            for (QueueSpec q : specs) {
                await().atMost(Duration.ofSeconds(30)).until(() -> w.isConsuming(q.name()));
            }
            // And it still takes new work on every queue.
            List<String> after = new ArrayList<>();
            for (QueueSpec q : specs) {
                after.add(tasks.publish(q.name(), "job", "{\"n\":-1}"));
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(done).containsAll(after));
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * A handler holds every delivery (concurrency 1, prefetch 4) while the queue is paused and resumed several
     * times. Each new basic.consume gets its own prefetch from the broker, so without a bound the handler pool's
     * backlog would grow by prefetch per resubscribe; the worker must never hold more than prefetch unsettled.
     */
    @Test
    void theHandOffNeverHoldsMoreThanPrefetchAcrossResubscribes(TestBroker broker, TestQueues queues)
            throws Exception {
        int prefetch = 4;
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("handoff")).concurrency(1).prefetch(prefetch)
                .build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Set<String> done = ConcurrentHashMap.newKeySet();
        try (TestTasks tasks = new TestTasks(broker, "handoff-it-publisher");
                Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("handoff-it")
                        .build()).config(config).drainTimeout(Duration.ofSeconds(10))
                        .handler("job", Job.class, (job, ctx) -> {
                            release.await();
                            done.add(ctx.messageId());
                        }).build()) {
            tasks.declare(config);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                ids.add(tasks.publish(spec.name(), "job", "{\"n\":" + i + "}"));
            }
            w.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> w.inFlight() == prefetch);
            int most = 0;
            for (int i = 0; i < 5; i++) {
                w.pause(spec.name(), "test");
                w.resume(spec.name(), "test");
                for (int j = 0; j < 10; j++) { // give a second subscription time to receive its deliveries
                    most = Math.max(most, w.inFlight());
                    Thread.sleep(50);
                }
            }
            assertThat(most).as("deliveries held at once").isEqualTo(prefetch);
            assertThat(w.isHealthy()).as("waiting for room is healthy").isTrue();
            release.countDown();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(done).containsAll(ids));
        }
    }

    private static int port(URI uri) {
        return uri.getPort() > 0 ? uri.getPort() : 5672;
    }

    private static URI viaProxy(URI uri, int port) {
        String user = uri.getRawUserInfo() == null ? "" : uri.getRawUserInfo() + "@";
        return URI.create(uri.getScheme() + "://" + user + "127.0.0.1:" + port + uri.getRawPath());
    }
}
