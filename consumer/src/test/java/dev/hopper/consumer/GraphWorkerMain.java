package dev.hopper.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.Task;
import dev.hopper.topology.HopperConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A worker JVM for the task-graph crash test ({@code FollowUpKillIT}), started with ProcessBuilder. Arguments: broker
 * URI, hopper.yml path, queue, sink file, Redis URI, key namespace.
 *
 * <p>Task types, each appending {@code start <id>} when its handler starts and {@code effect <id>} as the handler's
 * last act: {@code root} ({@code {"fan":N,"fan2":M,"ms":T}}) asks for N {@code leaf} follow-ups and a {@code mid}
 * join; {@code leaf} sleeps T ms and returns {@code {"id": its id}}; {@code mid} appends
 * {@code join1 <id> <results>}, asks for M {@code leaf} follow-ups and a {@code final} join; {@code final} appends
 * {@code join2 <id> <results>}.
 */
public final class GraphWorkerMain {
    record Root(int fan, int fan2, long ms) {}

    record Leaf(long ms) {}

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        HopperConfig config = HopperConfig.load(Path.of(args[1]));
        String queue = args[2];
        Path sink = Path.of(args[3]);
        RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(URI.create(args[4]))
                .namespace(args[5]).build());
        Worker w = Worker.builder()
                .broker(BrokerConfig.builder(uri).connectionName("graph-worker-main").build())
                .config(config).queues(queue).coordinationStore(store).drainTimeout(Duration.ofSeconds(5))
                .handler("root", Root.class, (root, ctx) -> {
                    TestWorkerMain.append(sink, "start " + ctx.messageId());
                    for (int i = 0; i < root.fan(); i++) {
                        ctx.followUp(Task.builder().queue(queue).type("leaf").payload(new Leaf(root.ms())).build());
                    }
                    ctx.join(Task.builder().queue(queue).type("mid")
                            .payload(Map.of("fan2", root.fan2(), "ms", root.ms())).build());
                    TestWorkerMain.append(sink, "effect " + ctx.messageId());
                })
                .handler("leaf", Leaf.class, (leaf, ctx) -> {
                    TestWorkerMain.append(sink, "start " + ctx.messageId());
                    Thread.sleep(leaf.ms());
                    ctx.result("{\"id\":\"" + ctx.messageId() + "\"}");
                    TestWorkerMain.append(sink, "effect " + ctx.messageId());
                })
                .handler("mid", JsonNode.class, (mid, ctx) -> {
                    TestWorkerMain.append(sink, "start " + ctx.messageId());
                    for (int i = 0; i < mid.get("fan2").asInt(); i++) {
                        ctx.followUp(Task.builder().queue(queue).type("leaf")
                                .payload(new Leaf(mid.get("ms").asLong())).build());
                    }
                    ctx.join(Task.builder().queue(queue).type("final").payload(Map.of()).build());
                    TestWorkerMain.append(sink, "join1 " + ctx.messageId() + " " + mid.get("results"));
                    TestWorkerMain.append(sink, "effect " + ctx.messageId());
                })
                .handler("final", JsonNode.class, (fin, ctx) -> {
                    TestWorkerMain.append(sink, "start " + ctx.messageId());
                    TestWorkerMain.append(sink, "join2 " + ctx.messageId() + " " + fin.get("results"));
                    TestWorkerMain.append(sink, "effect " + ctx.messageId());
                })
                .build();
        w.start();
        TestWorkerMain.append(sink, "ready " + ProcessHandle.current().pid());
        Runtime.getRuntime().addShutdownHook(new Thread(w::close));
        new CountDownLatch(1).await();
    }
}
