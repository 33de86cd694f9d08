package dev.hopper.consumer;

import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A worker JVM for crash tests, started by tests with ProcessBuilder. Arguments: broker URI, hopper.yml path,
 * queue, sink file, and optionally a Redis URI and key namespace for a shared coordination store.
 *
 * <p>Task types: {@code sleep} ({@code {"ms": N, "halt": bool}}) appends {@code start <id>}, halts the JVM on the
 * spot if {@code halt} (a poison task), sleeps, appends {@code done <id>}. {@code span} ({@code {"ms": N}}, keyed)
 * appends {@code span <key> <token> <startMicros> <endMicros> <id> <lockWaits>} after sleeping. {@code done-then-die}
 * appends {@code done <id>} and halts the JVM after the worker recorded the completion but before its ack.
 * Each line is one small O_APPEND write, so concurrent writers (threads and processes) never interleave.
 */
public final class TestWorkerMain {
    record Sleep(long ms, boolean halt) {}

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        HopperConfig config = HopperConfig.load(Path.of(args[1]));
        String queue = args[2];
        Path sink = Path.of(args[3]);
        Set<String> dieAfterComplete = ConcurrentHashMap.newKeySet();
        Worker.Builder b = Worker.builder()
                .broker(BrokerConfig.builder(uri).connectionName("test-worker-main")
                        .heartbeat(Duration.ofSeconds(Long.getLong("hopper.test.heartbeat", 10))).build())
                .config(config).queues(queue).drainTimeout(Duration.ofSeconds(5))
                .handler("sleep", Sleep.class, (task, ctx) -> {
                    append(sink, "start " + ctx.messageId());
                    if (task.halt()) {
                        Runtime.getRuntime().halt(3);
                    }
                    Thread.sleep(task.ms());
                    append(sink, "done " + ctx.messageId());
                })
                .handler("span", Sleep.class, (task, ctx) -> {
                    long start = micros();
                    Thread.sleep(task.ms());
                    long end = micros();
                    append(sink, "span " + ctx.key().orElseThrow() + " " + ctx.fencingToken().orElseThrow() + " "
                            + start + " " + end + " " + ctx.messageId() + " "
                            + HeaderValues.count(ctx.headers(), Headers.LOCK_WAITS).orElse(0));
                })
                .handler("done-then-die", Sleep.class, (task, ctx) -> {
                    append(sink, "done " + ctx.messageId());
                    if (task.halt()) {
                        dieAfterComplete.add(ctx.messageId());
                    }
                })
                .afterCompleteHook(id -> {
                    if (dieAfterComplete.contains(id)) {
                        Runtime.getRuntime().halt(4);
                    }
                });
        if (args.length > 5) {
            b.coordinationStore(new RedisCoordinationStore(RedisStoreConfig.builder(URI.create(args[4]))
                    .namespace(args[5]).build()));
        }
        Worker w = b.build();
        w.start();
        append(sink, "ready " + ProcessHandle.current().pid());
        Runtime.getRuntime().addShutdownHook(new Thread(w::close));
        new CountDownLatch(1).await();
    }

    private static long micros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    static synchronized void append(Path sink, String line) throws IOException {
        Files.write(sink, (line + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    }
}
