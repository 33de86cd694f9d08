package dev.hopper.ops;

import static dev.hopper.ops.DeadLetterFixture.headers;
import static dev.hopper.ops.DeadLetterFixture.props;
import static dev.hopper.ops.DeadLetterFixture.publish;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import dev.hopper.ops.cli.HopperCommand;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The command-line findings of issue 16 that need a broker, run in-process against the test broker. */
@ExtendWith(TestQueues.class)
@Timeout(120)
class CliFindingsIT {
    static final ObjectMapper MAPPER = new ObjectMapper();

    record Run(int code, String out, String err) {
        List<JsonNode> json() throws Exception {
            List<JsonNode> lines = new ArrayList<>();
            for (String l : out.split("\\R")) {
                if (!l.isEmpty()) {
                    lines.add(MAPPER.readTree(l));
                }
            }
            return lines;
        }
    }

    static Run run(TestBroker broker, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--uri", broker.uri().toString()));
        all.addAll(List.of(args));
        int code = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void statsWithoutConfigFindsAWebhookQueuesTiers(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec q = queues.track(QueueSpec.builder(queues.name("hooks")).retry(RetryPolicy.RETRY_FOR_A_DAY).build());
        try (Connection c = broker.connect("stats-tiers-it")) {
            new Topology(HopperConfig.of(List.of(q))).declare(c);
        }
        Run r = run(broker, "--json", "stats", "--queue", q.name());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.json()).extracting(n -> n.path("queue").asText()).containsExactly(q.name(),
                q.name() + ".retry.5m", q.name() + ".retry.1h", q.name() + ".dead");
        assertThat(r.json()).extracting(n -> n.path("state").asText()).containsOnly("ok");
    }

    @Test
    void replayOfAnUnknownGroupSaysSoAndListsTheGroups(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec q;
        try (Connection c = broker.connect("dlq-group-it")) {
            q = DeadLetterFixture.declare(c, queues, "groups");
            publish(c, q.name(), 3, "g", i -> props("g-" + i, "t", headers(q.name(), "exhausted",
                    "java.io.IOException", "com.acme.Upload.run(Upload.java:7)", Instant.now())));
        }
        Run r = run(broker, "dlq", "replay", "--queue", q.name(), "--group", "nosuch00");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("no such group 'nosuch00' in " + q.deadQueue())
                .contains("(3 exhausted java.io.IOException)");
        Run json = run(broker, "--json", "dlq", "replay", "--queue", q.name(), "--group", "nosuch00", "--dry-run");
        assertThat(json.code()).isEqualTo(1);
        assertThat(json.json()).last().satisfies(n -> assertThat(n.path("error").asText()).contains("no such group"));
        try (Connection c = broker.connect("dlq-group-it-check")) {
            assertThat(DeadLetterFixture.depth(c, q.deadQueue())).isEqualTo(3);
        }
    }

    @Test
    void dlqKeySelectsOneEntitysDeadLetters(TestBroker broker, TestQueues queues) throws Exception {
        QueueSpec q;
        try (Connection c = broker.connect("dlq-key-it")) {
            q = DeadLetterFixture.declare(c, queues, "keys");
            publish(c, q.name(), 4, "k", i -> {
                Map<String, Object> h = new LinkedHashMap<>(headers(q.name(), "exhausted", "java.io.IOException",
                        "com.acme.Upload.run(Upload.java:7)", Instant.now()));
                h.put(Headers.KEY, i % 2 == 0 ? "repo:42" : "repo:7");
                return props("k-" + i, "t", h);
            });
        }
        Run list = run(broker, "--json", "dlq", "list", "--queue", q.name(), "--key", "repo:42");
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.json()).extracting(n -> n.path("id").asText()).containsExactly("k-0", "k-2");
        Run purge = run(broker, "--json", "dlq", "purge", "--queue", q.name(), "--key", "repo:7", "--yes");
        assertThat(purge.json().get(0).path("purged").asLong()).isEqualTo(2);
        Run replay = run(broker, "--json", "dlq", "replay", "--queue", q.name(), "--key", "repo:42", "--dry-run");
        assertThat(replay.json()).filteredOn(n -> n.has("id")).extracting(n -> n.path("id").asText())
                .containsExactly("k-0", "k-2");
    }
}
