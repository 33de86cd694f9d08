package dev.hopper.ops.reliability;

import static dev.hopper.ops.reliability.LedgerRig.QUEUE_YAML;
import static dev.hopper.ops.reliability.LedgerRig.sleep;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.PublishException;
import dev.hopper.publisher.TaskPublisher;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.ThrowawayRabbit;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ledger rows for what the broker itself refuses or changes (docs/reliability.md): a work queue at its length
 * limit (reject-publish) and a queue that does not exist (unroutable), a replayed dead letter that carries
 * {@code x-death} headers through more retries (RabbitMQ 3.10–3.13's dead-letter cycle detection), and a handler
 * that outlives the broker's {@code consumer_timeout}. Faults that change broker settings run on throwaway nodes
 * (AMQP ports 5721-5722).
 */
@ExtendWith(TestQueues.class)
@Timeout(600)
class BrokerEdgeLedgerIT {

    @TempDir
    Path dir;

    /**
     * A length limit of 10 (a policy on the throwaway node; the queue's own x-overflow is reject-publish) while no
     * worker runs: the broker takes 10 (or 11) of 30 tasks and nacks the rest, and a task for a queue that does not exist is
     * returned. The publisher must report each refused task as refused and certainly not sent (so the caller can
     * resend it), never as confirmed; the 10 it took all run.
     */
    @Test
    @Tag("fast")
    void rejectPublishAndUnroutableAreReportedNotLost() throws Exception {
        Ledger ledger = new Ledger("reject-publish", "work queue at a length limit of 10 (reject-publish) while 30 "
                + "tasks are published, and one task for a queue that does not exist")
                .duplicateBound(0, "nothing is resent");
        try (ThrowawayRabbit node = ThrowawayRabbit.start("rel-edge-reject", 5721);
                LedgerRig rig = new LedgerRig(dir, node.uri(), null, QueueSpec.builder("reject").build(),
                        QUEUE_YAML)) {
            node.ctl("set_policy", "--apply-to", "queues", "cap-reject", "^reject$", "{\"max-length\":10}");
            await().atMost(Duration.ofSeconds(30)).until(() -> node.ctl("list_queues", "name", "policy")
                    .contains("cap-reject"));
            List<PublishException> refused = new ArrayList<>();
            BrokerConfig cfg = BrokerConfig.builder(node.uri()).connectionName("ledger-reject").build();
            try (TaskPublisher publisher = TaskPublisher.builder().broker(cfg).build()) {
                for (int i = 0; i < 30; i++) {
                    var task = publisher.newTask().queue("reject").type(LedgerRig.TYPE).payload(sleep(5)).build();
                    try {
                        // One at a time, so that which ones the broker took is not a matter of timing.
                        publisher.publishAsync(task).get(60, TimeUnit.SECONDS);
                        ledger.confirmed(task.messageId(), true);
                    } catch (ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(PublishException.class);
                        refused.add((PublishException) e.getCause());
                    }
                }
                var lost = publisher.newTask().queue("no-such-queue-" + UUID.randomUUID()).type(LedgerRig.TYPE)
                        .payload(sleep(5)).build();
                assertThat(publisher.publishAsync(lost)).failsWithin(Duration.ofSeconds(60))
                        .withThrowableOfType(ExecutionException.class).havingCause()
                        .isInstanceOfSatisfying(PublishException.class, e -> {
                            assertThat(e.reason()).isEqualTo(PublishException.Reason.UNROUTABLE);
                            assertThat(e.mayHaveArrived()).isFalse();
                        });
            }
            // A quorum queue checks its limit before each enqueue, so it may take one past it (11 of 30).
            assertThat(refused).hasSizeBetween(19, 20).allSatisfy(e -> {
                assertThat(e.reason()).isEqualTo(PublishException.Reason.NACKED);
                assertThat(e.mayHaveArrived()).as("a nacked task certainly did not arrive").isFalse();
                assertThat(e.getMessage()).contains("reject-publish");
            });
            ledger.note("refused (nack)", refused.size()).note("unroutable", 1);
            rig.startWorker();
            rig.awaitSettled(ledger, 0, Duration.ofSeconds(120), () -> {});
            rig.stopAndCollect(ledger);
        }
        assertThat(ledger.completedIds()).as("every task the broker took ran").hasSize(ledger.confirmedCount());
        ledger.writeAndAssert();
    }

    /**
     * Dead letters that carry the broker's {@code x-death} history of the same retry tier they will go through
     * again (as letters that were retried before dying do), replayed, then failing twice more: each retry passes
     * through {@code Q.retry.1s} and back. RabbitMQ 3.10–3.13 drops a message whose client-set {@code x-death}
     * already names that queue with reason {@code expired} ("cycle detected") without a trace, so the replay and
     * every retry copy must strip it. All 50 must complete.
     */
    @Test
    @Tag("fast")
    void xDeathHistoryDoesNotDropReplayedTasksOnTheirNextRetries(TestBroker broker, TestQueues queues)
            throws Exception {
        Ledger ledger = new Ledger("x-death-after-replay", "50 dead letters with x-death naming their retry tier "
                + "(expired, count 2) replayed, each then failing twice through that tier")
                .duplicateBound(0, "nothing is killed");
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name("xdeath")).build());
        try (LedgerRig rig = new LedgerRig(dir, broker.uri(), null, spec, QUEUE_YAML)) {
            queues.track(rig.configured());
            String retryQueue = rig.configured().retryQueue(rig.configured().tiers().get(0));
            Map<String, Object> death = Map.of("count", 2L, "reason", "expired", "queue", retryQueue, "exchange",
                    "", "routing-keys", List.of(retryQueue), "time", new java.util.Date());
            List<String> ids = rig.deadLetters(ledger, 50, "{\"sleepMs\":1,\"failUntilAttempt\":2}", Map.of(
                    Headers.BROKER_DEATH, List.of(death), "x-first-death-queue", retryQueue,
                    "x-first-death-reason", "expired", "x-last-death-queue", retryQueue,
                    "x-last-death-reason", "expired"));
            rig.startWorker();
            Process replay = rig.replay("replay-xdeath.out", "--reset-attempts");
            assertThat(replay.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(replay.exitValue()).as("replay exit status").isZero();
            await("all 50 replayed tasks completed after two retries each").atMost(Duration.ofSeconds(120))
                    .until(() -> ledger.completions(rig.ledgerFile).completedIds().containsAll(ids));
            rig.stopAndCollect(ledger);
            long retried = ledger.spans().stream().filter(s -> s.endMs() >= 0 && s.attempt() == 2).count();
            ledger.note("runs at attempt 2 (after two retries)", retried);
            assertThat(retried).isEqualTo(50);
        }
        assertThat(ledger.deadReasons()).as("nothing dead at the end").isEmpty();
        ledger.writeAndAssert();
    }

    /**
     * A handler that outlives the broker's {@code consumer_timeout} (3 s on a throwaway node, checked every
     * second) once, among 20 quick tasks: the broker closes the worker's channel and requeues its deliveries; the
     * worker must subscribe again by itself and finish everything. The slow run's ack is lost with its channel, so
     * that task runs twice (its second run is quick); deliveries prefetched on the closed channel must not start
     * there (issue 17 finding 10).
     */
    @Test
    @Tag("fast")
    void handlerPastTheConsumerTimeout() throws Exception {
        Ledger ledger = new Ledger("consumer-timeout", "one handler runs 8 s, past a 3 s consumer_timeout, among 20 "
                + "quick tasks").duplicateBound(1, "the slow task, whose ack died with its channel");
        try (ThrowawayRabbit node = ThrowawayRabbit.start("rel-edge-ctimeout", 5722, "consumer_timeout = 3000");
                LedgerRig rig = new LedgerRig(dir, node.uri(), null, QueueSpec.builder("ctimeout").build(),
                        QUEUE_YAML)) {
            // Channels check the timeout on their tick (60 s by default): every second, for channels opened now on.
            node.ctl("eval", "application:set_env(rabbit, channel_tick_interval, 1000).");
            rig.startWorker();
            rig.publish(ledger, 21, i -> i == 0 ? Map.of("sleepOnceMs", 8000) : sleep(200), i -> true, null);
            rig.awaitSettled(ledger, 0, Duration.ofSeconds(120), () -> {});
            rig.stopAndCollect(ledger);
            String log = java.nio.file.Files.readString(rig.dir.resolve("worker-ctimeout-1.err"))
                    + java.nio.file.Files.readString(rig.dir.resolve("worker-ctimeout-1.out"));
            assertThat(log).as("the broker closed the channel for the timeout").contains("delivery acknowledgement");
            ledger.note("worker restarts", rig.workersStarted() - 1);
        }
        assertThat(ledger.completedIds()).hasSize(21);
        ledger.writeAndAssert();
    }
}
