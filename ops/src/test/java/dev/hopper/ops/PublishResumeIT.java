package dev.hopper.ops;

import static dev.hopper.ops.DeadLetterFixture.drain;
import static dev.hopper.ops.DeadLetterFixture.ids;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hopper publish --file} keeps what the broker did not confirm, and {@code --resume} sends exactly that
 * again under the same message ids (issue 17 finding 6). The failure here is an unroutable publish (the queue does
 * not exist yet); a lost node gives "may have arrived" failures the same way (NodeLossClusterIT, -Pcluster).
 */
@ExtendWith(TestQueues.class)
@Timeout(300)
class PublishResumeIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void unconfirmedLinesAreWrittenAndResumedWithTheirIds(TestBroker broker, TestQueues queues, @TempDir Path dir)
            throws Exception {
        QueueSpec q = queues.track(QueueSpec.builder(queues.name("resume"))
                .tiers(List.of(dev.hopper.topology.DelayTier.parse("5s"))).build());
        Path tasks = dir.resolve("tasks.jsonl");
        Files.writeString(tasks, "{\"n\":1}\n\n{\"n\":2}\n{\"n\":3}\n", StandardCharsets.UTF_8);

        HopperJar.Result failed = HopperJar.run("publish", "--queue", q.name(), "--type", "t", "--file",
                tasks.toString());
        assertThat(failed.exitCode()).as(failed.toString()).isEqualTo(1);
        Path left = dir.resolve("tasks.jsonl.unconfirmed.jsonl");
        assertThat(failed.errLines()).hasSize(1);
        assertThat(failed.err()).contains("3 of 3 task(s) failed").contains("written to " + left)
                .contains("hopper publish --resume " + left);
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(left, StandardCharsets.UTF_8)) {
            lines.add(JSON.readTree(l));
        }
        assertThat(lines).extracting(n -> n.get("line").asInt()).containsExactly(1, 3, 4);
        assertThat(lines).extracting(n -> n.get("payload").get("n").asInt()).containsExactly(1, 2, 3);
        assertThat(lines).allSatisfy(n -> assertThat(n.get("may_have_arrived").asBoolean()).isFalse());
        List<String> wanted = lines.stream().map(n -> n.get("message_id").asText()).toList();

        try (Connection raw = broker.connect("publish-resume-it")) {
            new Topology(HopperConfig.of(List.of(q))).declare(raw);
            HopperJar.Result resumed = HopperJar.run("publish", "--resume", left.toString());
            assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
            assertThat(resumed.out()).contains("published 3 of 3 task(s) from " + left)
                    .contains("removed it");
            assertThat(left).doesNotExist();
            List<GetResponse> got = drain(raw, q.name());
            assertThat(ids(got)).containsExactlyElementsOf(wanted);
            assertThat(got).extracting(m -> new String(m.getBody(), StandardCharsets.UTF_8))
                    .containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}");
            assertThat(got).allSatisfy(m -> assertThat(m.getProps().getType()).isEqualTo("t"));
        }
    }
}
