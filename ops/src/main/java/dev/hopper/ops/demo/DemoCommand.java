package dev.hopper.ops.demo;

import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.ops.cli.Operator;
import com.rabbitmq.client.Channel;
import dev.hopper.consumer.Worker;
import dev.hopper.ops.dlq.DeadLetter;
import dev.hopper.ops.dlq.DeadLetterBrowser;
import dev.hopper.ops.dlq.DeadLetterReplayer;
import dev.hopper.ops.dlq.DlqFilter;
import dev.hopper.ops.dlq.ReplayReport;
import dev.hopper.ops.dlq.ReplayRequest;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.ConfirmedChannel;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.DurationText;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.Topology;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hopper demo}: on the broker of {@code --uri} (default {@code $RABBITMQ_URI}, else localhost), declares a
 * throw-away queue {@code hopper-demo-<random>} with 1s and 2s delay tiers, runs an in-process worker, publishes
 * six tasks that succeed, retry then succeed, fail for good and fail until the retries run out, narrates each run,
 * lists the dead letters with their reasons ({@link DeadLetterBrowser}), "fixes" the handlers, replays the dead
 * letters with a fresh attempt budget ({@link DeadLetterReplayer}, as {@code hopper dlq replay --reset-attempts}
 * does) and ends with a summary. Takes about five seconds; deletes its queues at the end unless {@code --keep}. Exit 0 when every task
 * completed, 1 (with one line saying why) otherwise, e.g. when no broker answers.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {
            "A five-second tour on a local broker: publishes tasks that succeed, retry, and fail; shows the "
                    + "retries and the dead letters; fixes the handler and replays them.",
            "",
            "Examples:",
            "  hopper demo",
            "  hopper --uri amqp://guest:guest@rabbit.local:5672/ demo --keep",
            ""})
public final class DemoCommand implements Callable<Integer>, CommandGroup {
    private static final Duration FIRST_ROUND = Duration.ofSeconds(30);
    private static final Duration AFTER_REPLAY = Duration.ofSeconds(20);
    /** How long a dead-queue pass waits for a delivery; the pass itself stops at the depth it started with. */
    private static final Duration SCAN_IDLE = Duration.ofSeconds(5);

    @Spec
    @Nullable CommandSpec spec;

    @Option(names = "--keep", description = "Keep the demo's queues afterwards (to look at them).")
    boolean keep;

    @Override
    public Integer call() throws Exception {
        CommandSpec s = java.util.Objects.requireNonNull(spec, "picocli injects the spec");
        PrintWriter out = s.commandLine().getOut();
        GlobalOptions global = GlobalOptions.of(s);
        if (!global.verbose()) {
            // The narration says what the worker's warnings would; they would only interleave with it on stderr.
            quiet("dev.hopper.consumer");
            quiet("hopper.audit"); // the demo's own throw-away replay is not an operator's action to audit
        }
        String queue = "hopper-demo-" + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36,
                36L * 36 * 36 * 36 * 36 * 36), 36);
        QueueSpec spec = QueueSpec.builder(queue)
                .tiers(List.of(DelayTier.parse("1s"), DelayTier.parse("2s")))
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(1), Duration.ofSeconds(2)).withMaxAttempts(3))
                .concurrency(1) // one run at a time keeps the narration in order
                .prefetch(1)
                .handlerTimeout(Duration.ofSeconds(10))
                .build();
        HopperConfig config = HopperConfig.of(List.of(spec));
        BrokerConfig broker = BrokerConfig.builder(global.uri()).connectionName("hopper-demo").build();
        DemoShop shop = new DemoShop();
        Narrator narrator = new Narrator(out, global.json() ? global.output() : null, spec, shop);
        try (BrokerConnection connection = BrokerConnection.open(broker)) {
            narrator.line("Hopper demo on " + connection.redactedUri());
            narrator.line("");
            new Topology(config).declare(connection.amqp());
            try {
                return tour(narrator, shop, connection, broker, spec, config);
            } finally {
                if (keep) {
                    narrator.line("Kept the queues of " + queue + " (delete them with your broker's tools).");
                } else {
                    deleteQueues(connection, spec);
                    narrator.line("Deleted the demo's queues (run with --keep to keep them).");
                }
                narrator.record("cleanup", Map.of("queue", queue, "kept", keep));
                out.flush();
            }
        }
    }

    private int tour(Narrator narrator, DemoShop shop, BrokerConnection connection, BrokerConfig broker,
            QueueSpec spec, HopperConfig config) throws Exception {
        String queue = spec.name();
        narrator.line("Declared work queue " + queue + ", delay queues " + spec.tiers().stream()
                .map(spec::retryQueue).collect(Collectors.joining(" and ")) + ", dead-letter queue "
                + spec.deadQueue() + ".");
        narrator.line("Retry policy: wait " + spec.retry().delays().stream().map(DurationText::format)
                .collect(Collectors.joining(", then ")) + "; at most " + spec.retry().maxAttempts() + " attempts.");
        Map<String, Object> declared = new java.util.LinkedHashMap<>();
        declared.put("queue", queue);
        declared.put("retry_queues", spec.tiers().stream().map(spec::retryQueue).toList());
        declared.put("dead_queue", spec.deadQueue());
        declared.put("retry_delays", spec.retry().delays().stream().map(DurationText::format).toList());
        declared.put("max_attempts", spec.retry().maxAttempts());
        narrator.record("declared", declared);
        Worker.Builder wb = Worker.builder().broker(BrokerConfig.builder(broker.uri()).connectionName("hopper-demo-worker")
                .build()).config(config).listener(narrator).drainTimeout(Duration.ofSeconds(5));
        shop.register(wb);
        try (Worker worker = wb.build();
                ConfirmedChannel publisher = new ConfirmedChannel(connection, 100, Duration.ofSeconds(5),
                        Duration.ofSeconds(10))) {
            worker.start();
            int total = DemoShop.TASKS.size();
            for (Map.Entry<String, String> t : DemoShop.TASKS) {
                byte[] body = t.getValue().getBytes(StandardCharsets.UTF_8);
                TaskEnvelope e = TaskEnvelope.fresh(UUID.randomUUID().toString(), t.getKey(), null, null,
                        Clock.systemUTC().instant(), body);
                confirmed(publisher.publish(QueueNames.TASKS_EXCHANGE, queue, EnvelopeCodec.properties(e), body));
            }
            Map<String, Long> byType = DemoShop.TASKS.stream().map(Map.Entry::getKey)
                    .collect(Collectors.groupingBy(t -> t, java.util.LinkedHashMap::new, Collectors.counting()));
            narrator.line("Published " + total + " tasks: " + byType.entrySet().stream()
                    .map(en -> en.getValue() + " " + en.getKey()).collect(Collectors.joining(", ")) + ".");
            narrator.line("");
            narrator.line("An in-process worker runs them, one at a time; each line is one run:");
            narrator.record("published", Map.of("tasks", total, "types", byType));

            awaitOrFail(() -> narrator.succeeded.get() + narrator.dead.get() >= total, FIRST_ROUND,
                    "the tasks did not settle within " + DurationText.format(FIRST_ROUND), narrator);
            int firstRoundSucceeded = narrator.succeeded.get();
            int retries = narrator.retried.get();

            List<DeadLetter> dead = new ArrayList<>();
            new DeadLetterBrowser(connection, Clock.systemUTC(), SCAN_IDLE).browse(queue, DlqFilter.ALL, dead::add);
            narrator.line("");
            narrator.line(spec.deadQueue() + " holds " + dead.size() + " dead letter" + (dead.size() == 1 ? "" : "s")
                    + ":");
            for (DeadLetter d : dead) {
                Map<String, Object> letter = new java.util.LinkedHashMap<>();
                letter.put("type", d.type());
                letter.put("id", d.messageId());
                letter.put("reason", d.reason());
                letter.put("attempts", d.attempt());
                letter.put("error", d.errorMessage());
                narrator.record("dead_letter", letter);
                narrator.line(String.format("  %-14s id %s  reason %-9s after %d attempt%s  error \"%s\"", d.type(),
                        shortId(d.messageId()), d.reason(), d.attempt(), d.attempt() == 1 ? "" : "s",
                        Headers.truncate(String.valueOf(d.errorMessage()), 60)));
            }
            narrator.line("");
            narrator.line("Fixing the handlers (the image has bytes now, the CRM is back) and replaying the dead "
                    + "letters with a fresh attempt budget:");
            shop.fix();
            narrator.replaying();
            ReplayReport replay = new DeadLetterReplayer(connection, connection, Clock.systemUTC(), SCAN_IDLE,
                    Operator.name()).replay(ReplayRequest.builder(queue).resetAttempts(true).build(),
                            DeadLetterReplayer.Progress.NONE);
            if (!replay.ok()) {
                throw new HopperException("demo failed: the replay did not finish: " + replay.firstFailure());
            }
            awaitOrFail(() -> narrator.succeeded.get() >= total, AFTER_REPLAY,
                    "the replayed tasks did not complete within " + DurationText.format(AFTER_REPLAY), narrator);
            Map<String, Object> summary = new java.util.LinkedHashMap<>();
            summary.put("published", total);
            summary.put("succeeded", narrator.succeeded.get());
            summary.put("succeeded_before_replay", firstRoundSucceeded);
            summary.put("retries", retries);
            summary.put("dead_lettered", dead.size());
            summary.put("replayed", replay.replayed());
            narrator.record("summary", summary);
            narrator.line("");
            narrator.line("Summary: published " + total + ", succeeded " + narrator.succeeded.get() + " ("
                    + firstRoundSucceeded + " before the replay, " + (narrator.succeeded.get() - firstRoundSucceeded)
                    + " after), retried " + retries + " times, dead-lettered " + dead.size() + ", replayed "
                    + replay.replayed() + ": all " + total + " tasks completed.");
            narrator.line("");
            return 0;
        }
    }

    private static void awaitOrFail(BooleanSupplier done, Duration max, String what, Narrator narrator)
            throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new HopperException("demo failed: " + what + " (succeeded " + narrator.succeeded.get()
                        + ", retried " + narrator.retried.get() + ", dead " + narrator.dead.get()
                        + "); is the broker overloaded? Run with -v to see the worker's log");
            }
            Thread.sleep(50); // polling the narrator's counters, which worker threads update
        }
    }

    private static void confirmed(java.util.concurrent.CompletableFuture<Void> publish) throws InterruptedException {
        try {
            publish.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new HopperException("demo failed: a task was not published: " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new HopperException("demo failed: the broker did not confirm a publish within 10s", e);
        }
    }

    private static void deleteQueues(BrokerConnection connection, QueueSpec spec) {
        List<String> names = new ArrayList<>();
        names.add(spec.name());
        spec.tiers().forEach(t -> names.add(spec.retryQueue(t)));
        names.add(spec.deadQueue());
        for (String n : names) {
            try {
                Channel ch = connection.openChannel();
                try {
                    ch.queueDelete(n);
                } finally {
                    if (ch.isOpen()) {
                        ch.close();
                    }
                }
            } catch (IOException | TimeoutException | RuntimeException e) {
                LoggerFactory.getLogger(DemoCommand.class).warn("could not delete demo queue name={}: {}", n,
                        e.toString());
            }
        }
    }

    private static String shortId(String id) {
        return id.length() > 8 ? id.substring(0, 8) : id;
    }

    /** Raises a logger's level to ERROR when the logging backend is logback (the one the hopper jar ships). */
    private static void quiet(String loggerName) {
        org.slf4j.Logger l = LoggerFactory.getLogger(loggerName);
        if (l instanceof ch.qos.logback.classic.Logger lb) {
            lb.setLevel(ch.qos.logback.classic.Level.ERROR);
        }
    }
}
