package dev.hopper.ops.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.ops.worker.HopperJar;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code hopper demo} from the packaged jar on the real broker. */
@ExtendWith(TestQueues.class)
class DemoCommandIT {
    private static final Pattern QUEUE = Pattern.compile("Declared work queue (hopper-demo-[a-z0-9]+),");

    @TempDir
    Path dir;

    private static String queueOf(String out) {
        Matcher m = QUEUE.matcher(out);
        assertThat(m.find()).as("queue name in:%n%s", out).isTrue();
        return m.group(1);
    }

    @Test
    void theTourRetriesDeadLettersReplaysAndCleansUp(TestBroker broker) throws Exception {
        HopperJar.Result r = HopperJar.run(dir, "demo", Duration.ofSeconds(60), "--uri", broker.uri().toString(),
                "demo");
        assertThat(r.exit()).as("stderr: %s", r.err()).isZero();
        assertThat(r.out())
                .contains("card.charge    attempt 1  failed: payment gateway timed out -> retry in 1s")
                .contains("card.charge    attempt 2  failed: payment gateway timed out -> retry in 2s")
                .contains("card.charge    attempt 3  ok")
                .contains("reason permanent after 1 attempt")
                .contains("reason exhausted after 3 attempts")
                .contains("Summary: published 6, succeeded 6 (4 before the replay, 2 after), retried 4 times, "
                        + "dead-lettered 2, replayed 2: all 6 tasks completed.")
                .contains("Deleted the demo's queues");
        assertThat(r.err()).isEmpty();
        String queue = queueOf(r.out());
        try (Connection c = broker.connect("demo-it")) {
            for (String q : List.of(queue, queue + ".dead", queue + ".retry.1s", queue + ".retry.2s")) {
                Channel ch = c.createChannel();
                assertThatThrownBy(() -> ch.queueDeclarePassive(q)).as(q).isInstanceOf(IOException.class);
            }
        }
    }

    @Test
    void withKeepTheQueuesStayAndAreEmpty(TestQueues queues, TestBroker broker) throws Exception {
        HopperJar.Result r = HopperJar.run(dir, "demo-keep", Duration.ofSeconds(60), "--uri",
                broker.uri().toString(), "demo", "--keep");
        String queue = queueOf(r.out());
        List<String> names = List.of(queue, queue + ".dead", queue + ".retry.1s", queue + ".retry.2s");
        names.forEach(queues::trackQueue);
        assertThat(r.exit()).as("stderr: %s", r.err()).isZero();
        assertThat(r.out()).contains("Kept the queues of " + queue);
        try (Connection c = broker.connect("demo-it")) {
            for (String q : names) {
                assertThat(HopperJar.depth(c, q)).as(q).isZero();
            }
        }
    }
}
