package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.coordination.GroupView;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.Task;
import dev.hopper.topology.FollowUpIds;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import dev.hopper.topology.testing.TestRedis;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Follow-ups and joins through a real worker, broker and Redis (design.md, "Follow-up tasks and joins"): fan-out and
 * fan-in, a failing parent, a dead child holding the join.
 */
@ExtendWith(TestQueues.class)
class FollowUpsIT {
    private final String namespace = "hopper-it:followups:" + UUID.randomUUID() + ":";
    private final ObjectMapper json = new ObjectMapper();

    record Doc(int doc) {}

    record Part(int i) {}

    @AfterEach
    void deleteKeys() {
        TestRedisKeys.deleteNamespace(namespace);
    }

    private RedisCoordinationStore store() {
        return new RedisCoordinationStore(RedisStoreConfig.builder(TestRedis.get().uri()).namespace(namespace).build());
    }

    private static Worker.Builder worker(TestBroker broker, HopperConfig config, RedisCoordinationStore store) {
        return Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("followups-it").build())
                .config(config).coordinationStore(store).drainTimeout(Duration.ofSeconds(10));
    }

    @Test
    void aParentOfFiftyChildrenAndAJoinRunsTheJoinOnceAfterAllOfThemWithFiftyResults(TestBroker broker,
            TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("fanout")).concurrency(8).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Map<String, AtomicInteger> partRuns = new ConcurrentHashMap<>();
        List<JsonNode> joins = new CopyOnWriteArrayList<>();
        AtomicInteger partsDoneBeforeJoin = new AtomicInteger(-1);
        try (RedisCoordinationStore store = store();
                TestTasks tasks = new TestTasks(broker, "fanout-it-publisher");
                Worker w = worker(broker, config, store)
                        .handler("split", Doc.class, (doc, ctx) -> {
                            for (int i = 0; i < 50; i++) {
                                ctx.followUp(Task.builder().queue(spec.name()).type("part").payload(new Part(i))
                                        .build());
                            }
                            ctx.join(Task.builder().queue(spec.name()).type("merge").payload(Map.of("doc", doc.doc()))
                                    .build());
                        })
                        .handler("part", Part.class, (part, ctx) -> {
                            partRuns.computeIfAbsent(ctx.messageId(), k -> new AtomicInteger()).incrementAndGet();
                            ctx.result("{\"square\":" + part.i() * part.i() + "}");
                        })
                        .handler("merge", JsonNode.class, (payload, ctx) -> {
                            partsDoneBeforeJoin.compareAndSet(-1, partRuns.size());
                            joins.add(payload);
                        })
                        .build()) {
            tasks.declare(config);
            w.start();
            String parent = tasks.publish(spec.name(), "split", "{\"doc\":7}");

            await().atMost(Duration.ofSeconds(60)).until(() -> joins.size() == 1);
            assertThat(partsDoneBeforeJoin.get()).as("the join ran after all 50 children").isEqualTo(50);
            JsonNode join = joins.get(0);
            assertThat(join.get("doc").asInt()).isEqualTo(7);
            assertThat(join.get("results")).hasSize(50);
            for (int i = 0; i < 50; i++) {
                assertThat(join.get("results").get(i).get("square").asInt()).as("result %d", i).isEqualTo(i * i);
            }
            for (int i = 0; i < 50; i++) {
                assertThat(partRuns.get(FollowUpIds.of(parent, i))).as("child %d", i).hasValue(1);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 0 && w.inFlight() == 0);
            assertThat(joins).as("the join ran exactly once").hasSize(1);
            GroupView view = store.group(parent).orElseThrow();
            assertThat(view.done()).isEqualTo(50);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(store.group(parent).orElseThrow()
                    .join().state()).isEqualTo(GroupView.JoinState.DONE));
        }
    }

    @Test
    void aParentThatFailsPublishesNoChildrenAndItsRetryPublishesThemOnce(TestBroker broker, TestQueues queues)
            throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("failparent"))
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(1)).withMaxAttempts(3)).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        Map<String, AtomicInteger> childRuns = new ConcurrentHashMap<>();
        AtomicInteger childRunsWhileParentFailed = new AtomicInteger();
        AtomicBoolean parentSucceeded = new AtomicBoolean();
        try (RedisCoordinationStore store = store();
                TestTasks tasks = new TestTasks(broker, "failparent-it-publisher");
                Worker w = worker(broker, config, store)
                        .handler("split", Doc.class, (doc, ctx) -> {
                            for (int i = 0; i < 3; i++) {
                                ctx.followUp(Task.builder().queue(spec.name()).type("part").payload(new Part(i))
                                        .build());
                            }
                            if (ctx.attempt() == 0) {
                                throw new IllegalStateException("the first run fails after asking for follow-ups");
                            }
                            parentSucceeded.set(true);
                        })
                        .handler("part", Part.class, (part, ctx) -> {
                            if (!parentSucceeded.get()) {
                                childRunsWhileParentFailed.incrementAndGet();
                            }
                            childRuns.computeIfAbsent(ctx.messageId(), k -> new AtomicInteger()).incrementAndGet();
                        })
                        .build()) {
            tasks.declare(config);
            w.start();
            String parent = tasks.publish(spec.name(), "split", "{\"doc\":1}");

            await().atMost(Duration.ofSeconds(30)).until(() -> childRuns.size() == 3);
            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.name()) == 0 && w.inFlight() == 0);
            assertThat(childRunsWhileParentFailed).hasValue(0);
            assertThat(childRuns).containsOnlyKeys(FollowUpIds.of(parent, 0), FollowUpIds.of(parent, 1),
                    FollowUpIds.of(parent, 2));
            assertThat(childRuns.values()).allSatisfy(n -> assertThat(n).hasValue(1));
        }
    }

    @Test
    void aChildThatIsDeadHoldsTheJoinAndTheGroupNamesIt(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec spec = queues.track(TestTasks.quickQueue(queues.name("deadchild")).build());
        HopperConfig config = HopperConfig.of(List.of(spec));
        List<JsonNode> joins = new CopyOnWriteArrayList<>();
        AtomicInteger partsDone = new AtomicInteger();
        try (RedisCoordinationStore store = store();
                TestTasks tasks = new TestTasks(broker, "deadchild-it-publisher");
                Worker w = worker(broker, config, store)
                        .handler("split", Doc.class, (doc, ctx) -> {
                            for (int i = 0; i < 3; i++) {
                                ctx.followUp(Task.builder().queue(spec.name()).type("part").payload(new Part(i))
                                        .build());
                            }
                            ctx.join(Task.builder().queue(spec.name()).type("merge").payload(Map.of()).build());
                        })
                        .handler("part", Part.class, (part, ctx) -> {
                            if (part.i() == 1) {
                                throw new PermanentTaskException("part 1 is broken");
                            }
                            partsDone.incrementAndGet();
                        })
                        .handler("merge", JsonNode.class, (payload, ctx) -> joins.add(payload))
                        .build()) {
            tasks.declare(config);
            w.start();
            String parent = tasks.publish(spec.name(), "split", "{\"doc\":1}");

            await().atMost(Duration.ofSeconds(30)).until(() -> tasks.depth(spec.deadQueue()) == 1
                    && partsDone.get() == 2);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                GroupView view = store.group(parent).orElseThrow();
                assertThat(view.children()).extracting(GroupView.ChildView::state).containsExactly(
                        GroupView.State.DONE, GroupView.State.DEAD, GroupView.State.DONE);
                assertThat(view.children().get(1).deadReason()).isEqualTo("permanent");
                assertThat(view.join().state()).isEqualTo(GroupView.JoinState.WAITING);
            });
            assertThat(joins).isEmpty();
        }
    }
}
