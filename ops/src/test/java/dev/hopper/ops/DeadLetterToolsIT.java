package dev.hopper.ops;

import static dev.hopper.ops.DeadLetterFixture.drain;
import static dev.hopper.ops.DeadLetterFixture.headers;
import static dev.hopper.ops.DeadLetterFixture.ids;
import static dev.hopper.ops.DeadLetterFixture.props;
import static dev.hopper.ops.DeadLetterFixture.publish;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.ops.dlq.DeadLetter;
import dev.hopper.ops.dlq.DeadLetterBrowser;
import dev.hopper.ops.dlq.DeadLetterPurger;
import dev.hopper.ops.dlq.DeadLetterReplayer;
import dev.hopper.ops.dlq.DlqFilter;
import dev.hopper.ops.dlq.ReplayReport;
import dev.hopper.ops.dlq.ReplayRequest;
import dev.hopper.ops.dlq.ScanReport;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The plain dead-letter classes against the real broker (RabbitMQ 3.10 quorum queues): reading never loses or
 * reorders, replay moves exactly the selection with publish-confirm-then-ack, purge deletes exactly the selection.
 */
@ExtendWith(TestQueues.class)
class DeadLetterToolsIT {
    static final Instant NOW = Instant.now();
    static final Duration IDLE = Duration.ofSeconds(3);

    Connection raw;
    BrokerConnection hopper;

    @BeforeEach
    void connect(TestBroker broker) {
        raw = broker.connect("dlq-tools-it");
        hopper = BrokerConnection.open(BrokerConfig.builder(broker.uri()).connectionName("dlq-tools-it-hopper").build());
    }

    @AfterEach
    void close() throws Exception {
        hopper.close();
        raw.close();
    }

    /** 30 dead letters: even ones of type a / IOException, odd ones of type b / IllegalStateException. */
    List<String> thirty(QueueSpec q) throws Exception {
        return publish(raw, q.name(), 30, "m", i -> {
            Map<String, Object> h = i % 2 == 0
                    ? headers(q.name(), "exhausted", "java.io.IOException", "com.acme.A.run(A.java:1)", NOW)
                    : headers(q.name(), "permanent", "java.lang.IllegalStateException", "com.acme.B.run(B.java:2)",
                            NOW.minus(Duration.ofDays(10)));
            h.put(Headers.BROKER_DEATH, List.of(Map.of("count", 1L, "reason", "rejected", "queue", q.name())));
            return props("m-" + i, i % 2 == 0 ? "a" : "b", h);
        });
    }

    @Test
    void browsingSeesTheSelectionAndLeavesEveryMessageInItsOriginalOrder(TestQueues queues) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "browse");
        List<String> all = thirty(q);

        List<DeadLetter> seen = new ArrayList<>();
        ScanReport r = new DeadLetterBrowser(hopper, Clock.systemUTC(), IDLE).browse(q.name(),
                DlqFilter.builder().type("b").build(), seen::add);
        assertThat(seen).extracting(DeadLetter::messageId)
                .containsExactlyElementsOf(all.stream().filter(id -> Integer.parseInt(id.substring(2)) % 2 == 1)
                        .toList());
        assertThat(r.depth()).isEqualTo(30);
        assertThat(r.scanned()).isEqualTo(30);
        assertThat(r.matched()).isEqualTo(15);
        assertThat(seen.get(0).reason()).isEqualTo("permanent");
        assertThat(seen.get(0).topFrame()).isEqualTo("at com.acme.B.run(B.java:2)");

        // A second pass with a limit stops early; neither pass changed the queue's content or order.
        List<DeadLetter> firstThree = new ArrayList<>();
        new DeadLetterBrowser(hopper, Clock.systemUTC(), IDLE).browse(q.name(), DlqFilter.builder().limit(3).build(),
                firstThree::add);
        assertThat(firstThree).extracting(DeadLetter::messageId).containsExactlyElementsOf(all.subList(0, 3));

        List<GetResponse> left = drain(raw, q.deadQueue());
        assertThat(ids(left)).containsExactlyElementsOf(all);
        // Each hand-back counts as a delivery on a quorum queue (dead queues have no delivery limit).
        assertThat(left.get(0).getProps().getHeaders()).containsKey(Headers.BROKER_DELIVERY_COUNT);
        assertThat(left.get(0).getEnvelope().isRedeliver()).isTrue();
    }

    @Test
    void findReturnsOneLetterAndLeavesTheQueueAsItWas(TestQueues queues) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "find");
        List<String> all = thirty(q);
        DeadLetterBrowser browser = new DeadLetterBrowser(hopper, Clock.systemUTC(), IDLE);
        assertThat(browser.find(q.name(), "m-17")).get().extracting(DeadLetter::type).isEqualTo("b");
        assertThat(browser.find(q.name(), "nope")).isEmpty();
        assertThat(ids(drain(raw, q.deadQueue()))).containsExactlyElementsOf(all);
    }

    @Test
    void replayMovesExactlyTheSelectionAndKeepsTheRestInOrder(TestQueues queues) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "replay");
        List<String> all = thirty(q);
        // Browse first, so the dead letters carry a delivery count from the broker.
        new DeadLetterBrowser(hopper, Clock.systemUTC(), IDLE).browse(q.name(), DlqFilter.ALL, d -> {});
        ReplayReport r = new DeadLetterReplayer(hopper, hopper, Clock.systemUTC(), IDLE, "tester@box")
                .replay(ReplayRequest.builder(q.name()).filter(DlqFilter.builder().type("a").build()).build(),
                        DeadLetterReplayer.Progress.NONE);
        assertThat(r.ok()).as(String.valueOf(r.firstFailure())).isTrue();
        assertThat(r.replayed()).isEqualTo(15);
        assertThat(r.byDestination()).containsExactly(Map.entry(q.name(), 15L));

        List<GetResponse> work = drain(raw, q.name());
        List<GetResponse> dead = drain(raw, q.deadQueue());
        assertThat(ids(work)).containsExactlyElementsOf(even(all, 0));
        assertThat(ids(dead)).containsExactlyElementsOf(even(all, 1));

        Map<String, Object> h = work.get(0).getProps().getHeaders();
        assertThat(h).doesNotContainKeys(Headers.BROKER_DEATH, Headers.DEAD_REASON);
        // The quorum queue sets x-delivery-count on delivery itself; the dead letter's count was not carried over.
        assertThat(((Number) h.getOrDefault(Headers.BROKER_DELIVERY_COUNT, 0)).longValue()).isZero();
        assertThat(h.get(Headers.REPLAYED_BY).toString()).isEqualTo("tester@box");
        assertThat(h.get(Headers.REPLAY_COUNT)).isEqualTo(1);
        assertThat(Instant.parse(h.get(Headers.REPLAYED_AT).toString())).isAfter(NOW.minusSeconds(1));
        assertThat(h.get(Headers.ERROR_CLASS).toString()).isEqualTo("java.io.IOException");
        assertThat(h.get(Headers.ATTEMPT)).isEqualTo(8);
        assertThat(work.get(0).getProps().getType()).isEqualTo("a");
        assertThat(new String(work.get(0).getBody())).isEqualTo("{\"n\":0,\"prefix\":\"m\"}");
    }

    @Test
    void replayWithLimitResetAndAnotherDestination(TestQueues queues) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "src");
        QueueSpec other = DeadLetterFixture.declare(raw, queues, "dst");
        List<String> all = thirty(q);
        ReplayReport r = new DeadLetterReplayer(hopper, hopper, Clock.systemUTC(), IDLE, "t@h").replay(
                ReplayRequest.builder(q.name()).filter(DlqFilter.builder().reason("permanent").limit(4).build())
                        .to(other.name()).resetAttempts(true).build(), DeadLetterReplayer.Progress.NONE);
        assertThat(r.replayed()).isEqualTo(4);
        assertThat(r.scan().scanned()).isEqualTo(8); // stopped at the 4th match
        List<GetResponse> moved = drain(raw, other.name());
        assertThat(ids(moved)).containsExactly("m-1", "m-3", "m-5", "m-7");
        assertThat(moved.get(0).getProps().getHeaders()).containsEntry(Headers.ATTEMPT, 0)
                .doesNotContainKey(Headers.FIRST_ATTEMPT_AT);
        assertThat(drain(raw, q.name())).isEmpty();
        List<String> rest = new ArrayList<>(all);
        rest.removeAll(List.of("m-1", "m-3", "m-5", "m-7"));
        assertThat(ids(drain(raw, q.deadQueue()))).containsExactlyElementsOf(rest);
    }

    @Test
    void dryRunChangesNothing(TestQueues queues) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "dry");
        List<String> all = thirty(q);
        ReplayReport r = new DeadLetterReplayer(hopper, hopper, Clock.systemUTC(), IDLE, "t@h").replay(
                ReplayRequest.builder(q.name()).dryRun(true).build(), DeadLetterReplayer.Progress.NONE);
        assertThat(r.planned()).hasSize(30);
        assertThat(r.replayed()).isZero();
        assertThat(drain(raw, q.name())).isEmpty();
        assertThat(ids(drain(raw, q.deadQueue()))).containsExactlyElementsOf(all);
    }

    @Test
    void anUnconfirmedCopyLeavesItsDeadLetterAndStopsTheRun(TestQueues queues) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "unroutable");
        List<String> all = thirty(q);
        String nowhere = queues.name("nowhere"); // never declared: the mandatory publish comes back
        ReplayReport r = new DeadLetterReplayer(hopper, hopper, Clock.systemUTC(), IDLE, "t@h").replay(
                ReplayRequest.builder(q.name()).to(nowhere).build(), DeadLetterReplayer.Progress.NONE);
        assertThat(r.ok()).isFalse();
        assertThat(r.replayed()).isZero();
        assertThat(r.firstFailure()).contains("unroutable");
        assertThat(ids(drain(raw, q.deadQueue()))).containsExactlyElementsOf(all);
    }

    @Test
    void purgeDeletesExactlyTheSelection(TestQueues queues) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "purge");
        List<String> all = thirty(q);
        ScanReport r = new DeadLetterPurger(hopper, Clock.systemUTC(), IDLE, "t@h").purge(q.name(),
                DlqFilter.builder().olderThan(Duration.ofDays(7)).build());
        assertThat(r.matched()).isEqualTo(15); // the odd ones failed 10 days ago
        assertThat(ids(drain(raw, q.deadQueue()))).containsExactlyElementsOf(even(all, 0));

        publish(raw, q.name(), 5, "x", i -> props("x-" + i, "a", Map.of()));
        assertThat(new DeadLetterPurger(hopper, Clock.systemUTC(), IDLE, "t@h").purge(q.name(), DlqFilter.ALL)
                .matched()).isEqualTo(5);
        assertThat(drain(raw, q.deadQueue())).isEmpty();
    }

    @Test
    void refusesToReadADeadQueueSomeoneElseConsumes(TestQueues queues) throws Exception {
        QueueSpec q = DeadLetterFixture.declare(raw, queues, "busy");
        thirty(q);
        Channel other = raw.createChannel();
        other.basicQos(1);
        other.basicConsume(q.deadQueue(), false, (tag, d) -> {}, tag -> {});
        assertThatThrownBy(() -> new DeadLetterBrowser(hopper, Clock.systemUTC(), IDLE).browse(q.name(),
                DlqFilter.ALL, d -> {}))
                .isInstanceOf(HopperException.class).hasMessageContaining("has 1 consumer(s) after waiting");
        other.close();
    }

    @Test
    void aMissingDeadQueueIsNamed(TestQueues queues) {
        String q = queues.name("missing");
        assertThatThrownBy(() -> new DeadLetterBrowser(hopper, Clock.systemUTC(), IDLE).browse(q, DlqFilter.ALL,
                d -> {})).isInstanceOf(HopperException.class)
                .hasMessageContaining("'" + q + ".dead' does not exist");
    }

    private static List<String> even(List<String> ids, int parity) {
        return IntStream.range(0, ids.size()).filter(i -> i % 2 == parity).mapToObj(ids::get).toList();
    }
}
