package dev.hopper.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.testing.TestBroker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** A benchmark stopped with SIGTERM (Ctrl-C) in the middle of its run still deletes its queues. */
class BenchInterruptIT {
    private static final Pattern DECLARED = Pattern.compile("bench queue declared queue=(hopper-bench-[0-9a-f]+)");

    @Test
    void interruptedRunDeletesItsQueues() throws Exception {
        Path jar = Path.of("target", "hopper.jar").toAbsolutePath();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "-jar", jar.toString(), "--uri",
                TestBroker.get().uri().toString(), "bench", "--duration", "60s", "--rate", "50"))
                .redirectErrorStream(true);
        pb.environment().put("HOPPER_LOG_LEVEL", "INFO"); // the run logs its queue's name at INFO
        Process p = pb.start();
        AtomicReference<String> queue = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = DECLARED.matcher(line);
                    if (m.find()) {
                        queue.compareAndSet(null, m.group(1));
                    }
                }
            } catch (java.io.IOException e) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> queue.get() != null);
            try (Connection c = TestBroker.get().connect("bench-interrupt-check")) {
                Channel ch = c.createChannel();
                ch.queueDeclarePassive(queue.get()); // exists while the run goes on
            }

            p.destroy(); // SIGTERM

            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            try (Connection c = TestBroker.get().connect("bench-interrupt-check")) {
                for (String q : new String[] {queue.get(), queue.get() + ".dead", queue.get() + ".retry.5s"}) {
                    Channel ch = c.createChannel();
                    assertThat(exists(ch, q)).as(q).isFalse();
                }
            }
        } finally {
            p.destroyForcibly();
        }
    }

    private static boolean exists(Channel ch, String q) {
        try {
            ch.queueDeclarePassive(q);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
