package dev.hopper.consumer;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A worker JVM for crash tests, started by tests with ProcessBuilder. Arguments: broker URI, hopper.yml path,
 * queue, sink file. Handles type {@code sleep} ({@code {"ms": N, "halt": bool}}): appends {@code start <id>} to
 * the sink, halts the JVM on the spot if {@code halt} is true (a poison task), sleeps, appends {@code done <id>}.
 * Each line is one small O_APPEND write, so concurrent writers (threads and processes) never interleave.
 */
public final class TestWorkerMain {
    record Sleep(long ms, boolean halt) {}

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        HopperConfig config = HopperConfig.load(Path.of(args[1]));
        String queue = args[2];
        Path sink = Path.of(args[3]);
        Worker w = Worker.builder().broker(BrokerConfig.builder(uri).connectionName("test-worker-main").build())
                .config(config).queues(queue).drainTimeout(Duration.ofSeconds(5))
                .handler("sleep", Sleep.class, (task, ctx) -> {
                    append(sink, "start " + ctx.messageId());
                    if (task.halt()) {
                        Runtime.getRuntime().halt(3);
                    }
                    Thread.sleep(task.ms());
                    append(sink, "done " + ctx.messageId());
                }).build();
        w.start();
        append(sink, "ready " + ProcessHandle.current().pid());
        Runtime.getRuntime().addShutdownHook(new Thread(w::close));
        new CountDownLatch(1).await();
    }

    static synchronized void append(Path sink, String line) throws IOException {
        Files.write(sink, (line + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    }
}
