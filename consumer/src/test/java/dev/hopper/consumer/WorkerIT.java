package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.impl.LongStringHelper;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestQueues.class)
class WorkerIT {

    record Job(int n) {}

    record Run(String id, int attempt, Instant at, Instant firstAttemptAt) {}

    private static Worker.Builder worker(TestBroker broker, HopperConfig config) {
        return Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("worker-it").build())
                .config(config).drainTimeout(Duration.ofSeconds(10));
    }

    @Test
    void failingTwiceThenSucceedingCompletesOnTheThirdAttemptAfterTheTierDelays(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("retry"))
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(1), Duration.ofSeconds(2)).withMaxAttempts(4)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        List<Run> runs = new CopyOnWriteArrayList<>();
        try (TestTasks tasks = new TestTasks(broker, "retry-it-publisher");
                Worker w = worker(broker, config).handler("flaky", Job.class, (job, ctx) -> {
                    runs.add(new Run(ctx.messageId(), ctx.attempt(), Instant.now(), ctx.firstAttemptAt()));
                    if (ctx.attempt() < 2) {
                        throw new IllegalStateException("fails on attempt " + ctx.attempt());
                    }
                }).build()) {
            tasks.declare(config);
            w.start();
            String id = tasks.publish(spec.name(), "flaky", "{\"n\":1}");
            await().atMost(Duration.ofSeconds(30)).until(() -> runs.size() == 3 && w.inFlight() == 0);
            assertThat(runs).extracting(Run::id).containsOnly(id);
            assertThat(runs).extracting(Run::attempt).containsExactly(0, 1, 2);
            // The first retry waited in the 1s tier, the second in the 2s tier.
            assertThat(Duration.between(runs.get(0).at(), runs.get(1).at())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
            assertThat(Duration.between(runs.get(1).at(), runs.get(2).at())).isGreaterThanOrEqualTo(Duration.ofMillis(1950));
            assertThat(runs).extracting(Run::firstAttemptAt).containsOnly(runs.get(0).firstAttemptAt());
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 0);
            assertThat(tasks.depth(spec.deadQueue())).isZero();
        }
    }

    @Test
    void alwaysFailingTaskEndsInTheDeadQueueWithEveryFailureHeader(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("exhaust"))
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(1)).withMaxAttempts(3)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        AtomicInteger calls = new AtomicInteger();
        try (TestTasks tasks = new TestTasks(broker, "exhaust-it-publisher");
                Worker w = worker(broker, config).workerId("worker-under-test").handler("doomed", Job.class, (job, ctx) -> {
                    calls.incrementAndGet();
                    throw new IllegalArgumentException("cannot process job " + job.n());
                }).build()) {
            tasks.declare(config);
            w.start();
            Instant before = Instant.now();
            String id = tasks.publish(spec.name(), "doomed", "{\"n\":7}");
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.deadQueue()) == 1);
            assertThat(calls.get()).isEqualTo(3);
            GetResponse dead = tasks.drain(spec.deadQueue()).get(0);
            Map<String, Object> h = dead.getProps().getHeaders();
            assertThat(dead.getProps().getMessageId()).isEqualTo(id);
            assertThat(dead.getProps().getType()).isEqualTo("doomed");
            assertThat(new String(dead.getBody(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":7}");
            assertThat(HeaderValues.text(h, Headers.DEAD_REASON)).contains("exhausted");
            assertThat(HeaderValues.text(h, Headers.ERROR_CLASS)).contains("java.lang.IllegalArgumentException");
            assertThat(HeaderValues.text(h, Headers.ERROR_MESSAGE)).contains("cannot process job 7");
            assertThat(HeaderValues.text(h, Headers.ERROR_STACK).orElseThrow())
                    .startsWith("java.lang.IllegalArgumentException: cannot process job 7")
                    .contains("\tat dev.hopper.consumer.WorkerIT");
            assertThat(HeaderValues.instant(h, Headers.FAILED_AT).orElseThrow()).isAfter(before);
            assertThat(HeaderValues.text(h, Headers.WORKER)).contains("worker-under-test");
            assertThat(HeaderValues.text(h, Headers.ORIGIN_QUEUE)).contains(spec.name());
            assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(3);
            assertThat(HeaderValues.instant(h, Headers.FIRST_ATTEMPT_AT)).isPresent();
            // Hopper keeps its own history; the broker's dead-letter headers never travel with a copy.
            assertThat(h.keySet()).noneMatch(k -> k.equals("x-death") || k.startsWith("x-first-death")
                    || k.startsWith("x-last-death"));
            assertThat(h).doesNotContainKey(Headers.RETRY_REASON);
            assertThat(tasks.depth(spec.name())).isZero();
        }
    }

    @Test
    void permanentFailureIsDeadLetteredWithoutRetry(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("permanent")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        AtomicInteger calls = new AtomicInteger();
        try (TestTasks tasks = new TestTasks(broker, "permanent-it-publisher");
                Worker w = worker(broker, config).handler("bad", Job.class, (job, ctx) -> {
                    calls.incrementAndGet();
                    throw new PermanentTaskException("user 42 was deleted");
                }).build()) {
            tasks.declare(config);
            w.start();
            tasks.publish(spec.name(), "bad", "{\"n\":1}");
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.deadQueue()) == 1);
            GetResponse dead = tasks.drain(spec.deadQueue()).get(0);
            assertThat(HeaderValues.text(dead.getProps().getHeaders(), Headers.DEAD_REASON)).contains("permanent");
            assertThat(HeaderValues.count(dead.getProps().getHeaders(), Headers.ATTEMPT)).contains(1);
            assertThat(calls.get()).isEqualTo(1);
        }
    }

    @Test
    void badInputIsDeadLetteredWithItsReasonWhileValidTasksKeepFlowing(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("badinput")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Set<String> done = ConcurrentHashMap.newKeySet();
        try (TestTasks tasks = new TestTasks(broker, "badinput-it-publisher");
                Worker w = worker(broker, config).handler("job", Job.class, (job, ctx) -> done.add(ctx.messageId()))
                        .build()) {
            tasks.declare(config);
            w.start();
            List<String> valid = new ArrayList<>();
            valid.add(tasks.publish(spec.name(), "job", "{\"n\":1}"));
            tasks.publishRaw(spec.name(), props("invalid-json", "job", Map.of()), "{\"n\": oops".getBytes());
            valid.add(tasks.publish(spec.name(), "job", "{\"n\":2}"));
            tasks.publishRaw(spec.name(), props("unknown-type", "no-such-type", Map.of()), "{\"n\":1}".getBytes());
            tasks.publishRaw(spec.name(), props("wrong-header", "job",
                    Map.of(Headers.ATTEMPT, LongStringHelper.asLongString("three"))), "{\"n\":3}".getBytes());
            valid.add(tasks.publish(spec.name(), "job", "{\"n\":3}"));
            tasks.publishRaw(spec.name(), props("empty-body", "job", Map.of()), new byte[0]);
            byte[] huge = new byte[5 * 1024 * 1024];
            java.util.Arrays.fill(huge, (byte) ' ');
            huge[0] = '[';
            huge[huge.length - 1] = ']';
            tasks.publishRaw(spec.name(), props("huge-body", "job", Map.of()), huge);
            tasks.publishRaw(spec.name(), props("wrong-shape", "job", Map.of()), "{\"n\":\"not a number\"}".getBytes());
            valid.add(tasks.publish(spec.name(), "job", "{\"n\":4}"));

            await().atMost(Duration.ofSeconds(20)).until(() -> tasks.depth(spec.deadQueue()) == 6);
            await().atMost(Duration.ofSeconds(20)).until(() -> done.containsAll(valid));
            Map<String, String> reasons = tasks.drain(spec.deadQueue()).stream().collect(Collectors.toMap(
                    r -> r.getProps().getMessageId(),
                    r -> HeaderValues.text(r.getProps().getHeaders(), Headers.DEAD_REASON).orElse("?")));
            assertThat(reasons).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "invalid-json", DeadReason.MALFORMED.wireValue(),
                    "unknown-type", DeadReason.UNKNOWN_TYPE.wireValue(),
                    "wrong-header", DeadReason.MALFORMED.wireValue(),
                    "empty-body", DeadReason.MALFORMED.wireValue(),
                    "huge-body", DeadReason.MALFORMED.wireValue(),
                    "wrong-shape", DeadReason.MALFORMED.wireValue()));
            assertThat(done).containsExactlyInAnyOrderElementsOf(valid);
            assertThat(w.isConsuming(spec.name())).isTrue();
        }
    }

    @Test
    void timedOutHandlerIsInterruptedAndRetried(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("timeout"))
                .handlerTimeout(Duration.ofMillis(500)).retry(RetryPolicy.ofDelays(Duration.ofSeconds(1)).withMaxAttempts(2))
                .build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        List<Boolean> interrupted = new CopyOnWriteArrayList<>();
        try (TestTasks tasks = new TestTasks(broker, "timeout-it-publisher");
                Worker w = worker(broker, config).handler("slow", Job.class, (job, ctx) -> {
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        interrupted.add(ctx.isCancelled());
                        throw e;
                    }
                }).build()) {
            tasks.declare(config);
            w.start();
            tasks.publish(spec.name(), "slow", "{\"n\":1}");
            await().atMost(Duration.ofSeconds(20)).until(() -> tasks.depth(spec.deadQueue()) == 1);
            assertThat(interrupted).containsExactly(true, true);
            GetResponse dead = tasks.drain(spec.deadQueue()).get(0);
            assertThat(HeaderValues.text(dead.getProps().getHeaders(), Headers.ERROR_CLASS))
                    .contains(HandlerTimeoutException.class.getName());
            assertThat(HeaderValues.text(dead.getProps().getHeaders(), Headers.DEAD_REASON)).contains("exhausted");
        }
    }

    @Test
    void gracefulCloseFinishesRunningHandlersAndReturnsTheRest(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("drain")).concurrency(2).prefetch(10).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Set<String> started = ConcurrentHashMap.newKeySet();
        Set<String> finished = ConcurrentHashMap.newKeySet();
        try (TestTasks tasks = new TestTasks(broker, "drain-it-publisher")) {
            tasks.declare(config);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ids.add(tasks.publish(spec.name(), "work", "{\"n\":" + i + "}"));
            }
            Worker w = worker(broker, config).handler("work", Job.class, (job, ctx) -> {
                started.add(ctx.messageId());
                Thread.sleep(1500);
                finished.add(ctx.messageId());
            }).build();
            w.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> started.size() == 2);
            w.close();
            // The two running handlers finished and were acked; the six prefetched ones went back unrun.
            assertThat(finished).containsExactlyInAnyOrderElementsOf(started);
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 6);
            List<String> back = tasks.drain(spec.name()).stream().map(r -> r.getProps().getMessageId()).toList();
            List<String> all = new ArrayList<>(back);
            all.addAll(finished);
            Collections.sort(all);
            List<String> expected = new ArrayList<>(ids);
            Collections.sort(expected);
            assertThat(all).isEqualTo(expected);
        }
    }

    @Test
    void handlerStillRunningAfterTheDrainLeavesItsTaskInTheQueue(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("drainlate")).concurrency(1).prefetch(1).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Set<String> started = ConcurrentHashMap.newKeySet();
        try (TestTasks tasks = new TestTasks(broker, "drainlate-it-publisher")) {
            tasks.declare(config);
            String id = tasks.publish(spec.name(), "stuck", "{\"n\":1}");
            Worker w = worker(broker, config).drainTimeout(Duration.ofMillis(300)).handler("stuck", Job.class,
                    (job, ctx) -> {
                        started.add(ctx.messageId());
                        long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait(); // ignores interrupts on purpose
                        }
                    }).build();
            w.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> started.contains(id));
            w.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 1);
            assertThat(tasks.drain(spec.name())).extracting(r -> r.getProps().getMessageId()).containsExactly(id);
        }
    }

    @Test
    void handlerInterruptedByShutdownGoesBackWithoutCountingAnAttempt(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("interrupted")).concurrency(1).prefetch(1).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Set<String> started = ConcurrentHashMap.newKeySet();
        try (TestTasks tasks = new TestTasks(broker, "interrupted-it-publisher")) {
            tasks.declare(config);
            String id = tasks.publish(spec.name(), "slow", "{\"n\":1}");
            Worker w = worker(broker, config).drainTimeout(Duration.ofMillis(300)).handler("slow", Job.class,
                    (job, ctx) -> {
                        started.add(ctx.messageId());
                        Thread.sleep(30_000); // interruptible: shutdown past the drain interrupts it
                    }).build();
            w.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> started.contains(id));
            w.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 1);
            GetResponse back = tasks.drain(spec.name()).get(0);
            assertThat(back.getProps().getMessageId()).isEqualTo(id);
            assertThat(HeaderValues.count(back.getProps().getHeaders(), Headers.ATTEMPT)).contains(0);
            assertThat(tasks.depth(spec.retryQueue(spec.tiers().get(0)))).isZero();
            assertThat(tasks.depth(spec.deadQueue())).isZero();
        }
    }

    @Test
    void workerSubscribesAgainAfterTheBrokerCancelsItsConsumer(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("cancel")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Set<String> done = ConcurrentHashMap.newKeySet();
        try (TestTasks tasks = new TestTasks(broker, "cancel-it-publisher");
                Worker w = worker(broker, config).handler("job", Job.class, (job, ctx) -> done.add(ctx.messageId()))
                        .build()) {
            tasks.declare(config);
            w.start();
            String first = tasks.publish(spec.name(), "job", "{\"n\":1}");
            await().atMost(Duration.ofSeconds(30)).until(() -> done.contains(first));
            // Deleting the queue makes the broker cancel the consumer (basic.cancel from the server).
            com.rabbitmq.client.Channel ch = tasks.connection.amqp().createChannel();
            ch.queueDelete(spec.name());
            ch.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> !w.isConsuming(spec.name()));
            tasks.declare(config);
            await().atMost(Duration.ofSeconds(30)).until(() -> w.isConsuming(spec.name()));
            String second = tasks.publish(spec.name(), "job", "{\"n\":2}");
            await().atMost(Duration.ofSeconds(30)).until(() -> done.contains(second));
        }
    }

    @Test
    void workerSubscribesAgainAfterTheBrokerClosesItsChannel(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("chanerr")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Set<String> done = ConcurrentHashMap.newKeySet();
        try (TestTasks tasks = new TestTasks(broker, "chanerr-it-publisher");
                Worker w = worker(broker, config).handler("job", Job.class, (job, ctx) -> done.add(ctx.messageId()))
                        .build()) {
            tasks.declare(config);
            w.start();
            com.rabbitmq.client.Channel first = w.consumerChannelForTests(spec.name());
            // Acking an unknown delivery tag is a channel error: the broker closes the channel (406), as it does
            // on consumer_timeout before RabbitMQ 4.3. Automatic recovery does not reopen such a channel.
            first.basicAck(999_999, false);
            await().atMost(Duration.ofSeconds(30)).until(() -> !first.isOpen());
            await().atMost(Duration.ofSeconds(30)).until(() -> w.isConsuming(spec.name()));
            assertThat(w.consumerChannelForTests(spec.name())).isNotSameAs(first);
            String id = tasks.publish(spec.name(), "job", "{\"n\":1}");
            await().atMost(Duration.ofSeconds(30)).until(() -> done.contains(id));
        }
    }

    @Test
    void workerKeepsConsumingAfterTheBrokerClosesItsConnection(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("reconnect")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Set<String> done = ConcurrentHashMap.newKeySet();
        String name = "reconnect-it-worker-" + System.nanoTime();
        try (TestTasks tasks = new TestTasks(broker, "reconnect-it-publisher");
                Worker w = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName(name)
                        .recoveryInterval(Duration.ofMillis(500)).build()).config(config)
                        .handler("job", Job.class, (job, ctx) -> done.add(ctx.messageId())).build()) {
            tasks.declare(config);
            w.start();
            String first = tasks.publish(spec.name(), "job", "{\"n\":1}");
            await().atMost(Duration.ofSeconds(30)).until(() -> done.contains(first));
            assertThat(broker.closeConnections(name + "-consume")).isEqualTo(1);
            await().atMost(Duration.ofSeconds(30)).until(() -> !w.isConnected());
            await().atMost(Duration.ofSeconds(20)).until(w::isConnected);
            String second = tasks.publish(spec.name(), "job", "{\"n\":2}");
            await().atMost(Duration.ofSeconds(20)).until(() -> done.contains(second));
        }
    }

    @Test
    void defaultHandlerGetsTheRawBodyOfAnyTypeButMalformedJsonIsStillDeadLettered(TestBroker broker,
            TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("fallback")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Map<String, String> seen = new ConcurrentHashMap<>();
        try (TestTasks tasks = new TestTasks(broker, "fallback-it-publisher");
                Worker w = worker(broker, config).defaultHandler(byte[].class,
                        (body, ctx) -> seen.put(ctx.type(), new String(body, StandardCharsets.UTF_8))).build()) {
            tasks.declare(config);
            w.start();
            tasks.publish(spec.name(), "anything", "{ \"spaced\" : [1, 2] }");
            tasks.publish(spec.name(), "other", "42");
            tasks.publishRaw(spec.name(), props("broken", "anything", Map.of()), "{nope".getBytes());
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 2 && tasks.depth(spec.deadQueue()) == 1);
            assertThat(seen).containsEntry("anything", "{ \"spaced\" : [1, 2] }").containsEntry("other", "42");
            assertThat(HeaderValues.text(tasks.drain(spec.deadQueue()).get(0).getProps().getHeaders(),
                    Headers.DEAD_REASON)).contains("malformed");
        }
    }

    private static AMQP.BasicProperties props(String id, String type, Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId(id).type(type).deliveryMode(2)
                .contentType("application/json").timestamp(new Date()).headers(headers).build();
    }
}
