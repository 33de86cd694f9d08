package dev.hopper.ops.reliability;

import static dev.hopper.ops.reliability.LedgerRig.QUEUE_YAML;
import static dev.hopper.ops.reliability.LedgerRig.sleep;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.ThrowawayRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ledger rows for keyed tasks (docs/reliability.md): a worker killed while it holds key locks, and many tasks for
 * a few keys while their revisions move. Besides lost = 0, every row checks the keys themselves
 * ({@link Ledger#keyViolations}): no two runs of one key overlap in time, and fencing tokens only rise. Each row
 * runs real {@code hopper worker} JVMs against the shared broker and a throwaway Redis of its own (so revisions
 * start at 0 and nothing else shares the keys).
 */
@ExtendWith(TestQueues.class)
@Timeout(600)
class KeyedFaultLedgerIT {
    /** A short lease, so that the killed worker's locks lapse within seconds. */
    private static final String KEYED_YAML = QUEUE_YAML + "lock: {lease: 3s}\n";

    @TempDir
    Path dir;

    private LedgerRig rig(TestBroker broker, TestQueues queues, ThrowawayRedis redis, String hint) throws Exception {
        QueueSpec spec = queues.track(QueueSpec.builder(queues.name(hint)).build());
        LedgerRig rig = new LedgerRig(dir, broker.uri(), redis.uri(), spec, KEYED_YAML);
        queues.track(rig.configured());
        return rig;
    }

    /**
     * Waits until {@code victim} is inside a handler (a run started and not ended), kills it with SIGKILL (its exact
     * pid), starts a replacement and answers the victim's pid.
     */
    private static long killWhileRunning(LedgerRig rig, Ledger ledger, Process victim) throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> ledger
                .completions(rig.ledgerFile).spans().stream()
                .anyMatch(s -> s.pid() == victim.pid() && s.endMs() < 0));
        victim.destroyForcibly();
        victim.waitFor();
        rig.startWorker();
        return victim.pid();
    }

    @Test
    @Tag("fast")
    void killWhileHoldingKeyLocks(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("kill-holding-lock", "kill -9 of one of two workers while it runs keyed tasks "
                + "(6 keys, 3 s lease), replacement started")
                .duplicateBound(4, "keyed tasks running on the killed worker (concurrency 4)");
        try (ThrowawayRedis redis = ThrowawayRedis.start(); LedgerRig rig = rig(broker, queues, redis, "killlock")) {
            Process victim = rig.startWorker();
            // Killed while inside a keyed handler: it then holds that key's lock.
            rig.runWithFault(ledger, 60, 300, i -> "k-" + (i % 6), 10, "killed pid",
                    () -> killWhileRunning(rig, ledger, victim));
            List<Ledger.Span> cut = ledger.spans().stream()
                    .filter(s -> s.pid() == victim.pid() && s.endMs() < 0).toList();
            assertThat(cut).as("runs cut short by the kill, each holding its key's lock").isNotEmpty();
            ledger.note("keys held by the killed worker", cut.stream().map(Ledger.Span::key).sorted().toList());
        }
        ledger.writeAndAssert();
    }

    /**
     * A burst for one key (issue 18's contended key) on two workers, one killed while it runs the key: the key's
     * lanes and waits in hand must lose nothing and run the key once at a time; only the run cut short may run twice.
     */
    @Test
    @Tag("fast")
    void killDuringABurstForOneKey(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("hot-key-kill", "kill -9 of one of two workers while it runs a burst of 100 "
                + "tasks for one key (50 ms each, 3 s lease), replacement started")
                .duplicateBound(1, "the key's one run in progress on the killed worker");
        try (ThrowawayRedis redis = ThrowawayRedis.start(); LedgerRig rig = rig(broker, queues, redis, "hotkey")) {
            Process victim = rig.startWorker();
            // Killed while it runs the key: it then holds the key's lock and has more of the key in its lane.
            rig.runWithFault(ledger, 100, 50, i -> "commit:1", 5, "killed pid",
                    () -> killWhileRunning(rig, ledger, victim));
            assertThat(ledger.spans().stream().filter(s -> s.pid() == victim.pid() && s.endMs() < 0))
                    .as("the run cut short by the kill").hasSize(1);
        }
        ledger.writeAndAssert();
    }

    /**
     * A producer that bumps a key's revision and publishes a task with it, for 3 keys, faster than the tasks run;
     * a fifth of the tasks fail once (so a revision can move while a task waits to be retried), and the last bump
     * of one key comes without a task. A task is superseded when its revision is below its key's final revision;
     * every task that carries its key's final revision must complete.
     */
    @Test
    @Tag("fast")
    void contentionOnFewKeysWithRevisionBumps(TestBroker broker, TestQueues queues) throws Exception {
        Ledger ledger = new Ledger("contention-with-bumps", "90 tasks for 3 keys on two workers, each published "
                + "with a fresh revision bump faster than they run, a fifth failing once, one bump without a task")
                .duplicateBound(0, "nothing is killed");
        try (ThrowawayRedis redis = ThrowawayRedis.start(); LedgerRig rig = rig(broker, queues, redis, "bumps");
                RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(redis.uri())
                        .build())) {
            rig.startWorker();
            rig.startWorker();
            rig.awaitWorkersReady(Duration.ofSeconds(60));
            // Each revision is bumped right before its task is published, as a producer that records a change does,
            // one change every 25 ms: a key changes about every 75 ms while its tasks take 100 ms, so some tasks
            // run, some wait for their key's lock, and some are overtaken before they run.
            rig.publish(ledger, 90, i -> i % 5 == 0 ? Map.of("sleepMs", 100, "failUntilAttempt", 1) : sleep(100),
                    i -> true, i -> "k-" + (i % 3), i -> {
                        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(25).toNanos());
                        return store.bumpRevision("k-" + (i % 3));
                    });
            long extra = store.bumpRevision("k-0"); // a change with no task: k-0's last task becomes stale too
            Map<String, Long> last = Map.of("k-0", extra, "k-1", store.currentRevision("k-1"), "k-2",
                    store.currentRevision("k-2"));
            rig.awaitQuiet(ledger, Duration.ofSeconds(180));
            rig.stopAndCollect(ledger);
            Map<String, String> keyOf = rig.publishedKeys();
            Map<String, Long> revisionOf = rig.publishedRevisions();
            int superseded = 0;
            for (String id : Set.copyOf(ledger.lost())) { // not completed, not dead: superseded, or else lost
                if (revisionOf.get(id) < last.get(keyOf.get(id))) {
                    ledger.superseded(id);
                    superseded++;
                }
            }
            long ranTwiceOrMore = ledger.spans().stream().filter(s -> s.endMs() >= 0)
                    .collect(java.util.stream.Collectors.groupingBy(Ledger.Span::key,
                            java.util.stream.Collectors.counting())).values().stream().filter(n -> n > 1).count();
            long failed = ledger.spans().stream().filter(s -> s.endMs() >= 0).count() - ledger.completedIds().size();
            ledger.note("final revisions", last).note("keys that ran more than once", ranTwiceOrMore)
                    .note("failed runs (then retried or superseded)", failed);
            assertThat(superseded).as("tasks overtaken by a newer revision before they ran").isPositive();
            assertThat(ledger.completedIds().size()).as("tasks that ran: the keys were contended, not all skipped")
                    .isGreaterThan(6);
            for (String key : List.of("k-1", "k-2")) {
                String newest = revisionOf.entrySet().stream().filter(e -> keyOf.get(e.getKey()).equals(key))
                        .filter(e -> e.getValue().equals(last.get(key))).map(Map.Entry::getKey).findFirst()
                        .orElseThrow();
                assertThat(ledger.completedIds()).as("the task with " + key + "'s newest revision ran")
                        .contains(newest);
            }
        }
        ledger.writeAndAssert();
    }
}
