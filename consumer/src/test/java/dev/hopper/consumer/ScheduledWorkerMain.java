package dev.hopper.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.TaskSchedule;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;

/**
 * A worker JVM for the delay and coalescing tests, started with ProcessBuilder. Arguments: broker URI, hopper.yml
 * path, queue, sink file, and optionally a Redis URI and key namespace for a shared coordination store.
 *
 * <p>Task types: {@code at} appends {@code start <id> <startMs> <notBeforeMs>} (-1 without a not-before);
 * {@code digest} ({@code {"n": N, "fail": bool, "ms": M}}) appends {@code run <id> <startMs> <n> <coalesced>
 * <attempt> <hops>}, sleeps {@code ms}, and fails its first attempt when {@code fail}. Each line is one small O_APPEND
 * write, so threads and processes never interleave.
 */
public final class ScheduledWorkerMain {
    public static void main(String[] args) throws Exception {
        Path sink = Path.of(args[3]);
        Worker.Builder b = Worker.builder()
                .broker(BrokerConfig.builder(URI.create(args[0])).connectionName("scheduled-worker-main").build())
                .config(HopperConfig.load(Path.of(args[1]))).queues(args[2]).drainTimeout(Duration.ofSeconds(5));
        handlers(b, sink);
        if (args.length > 5) {
            RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(URI.create(args[4]))
                    .namespace(args[5]).build());
            // The store connects on its first call, which takes seconds in a cold JVM on a busy machine: connect
            // before saying ready, so "runs at once" measures Hopper, not the JVM warming up.
            store.currentRevision("warm-up");
            b.coordinationStore(store);
        }
        Worker w = b.build();
        w.start();
        append(sink, "ready " + ProcessHandle.current().pid() + " " + Instant.now().toEpochMilli());
        Runtime.getRuntime().addShutdownHook(new Thread(w::close));
        new CountDownLatch(1).await();
    }

    /** The two recording handlers, for in-process workers too. */
    static Worker.Builder handlers(Worker.Builder b, Path sink) {
        return b.handler("at", JsonNode.class, (payload, ctx) -> {
            long startMs = Instant.now().toEpochMilli();
            Instant notBefore = TaskSchedule.read(ctx.headers()).notBefore();
            append(sink, "start " + ctx.messageId() + " " + startMs + " "
                    + (notBefore == null ? -1 : notBefore.toEpochMilli()));
        }).handler("digest", JsonNode.class, (payload, ctx) -> {
            long startMs = Instant.now().toEpochMilli();
            append(sink, "run " + ctx.messageId() + " " + startMs + " " + payload.path("n").asLong() + " "
                    + (ctx.coalesced().isPresent() ? ctx.coalesced().getAsLong() : -1) + " " + ctx.attempt() + " "
                    + TaskSchedule.read(ctx.headers()).hops());
            Thread.sleep(payload.path("ms").asLong(0));
            if (payload.path("fail").asBoolean(false) && ctx.attempt() == 0) {
                throw new IllegalStateException("first attempt of " + payload + " fails on purpose");
            }
        });
    }

    static synchronized void append(Path sink, String line) throws IOException {
        Files.write(sink, (line + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    }
}
