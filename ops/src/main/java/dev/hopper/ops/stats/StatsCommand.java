package dev.hopper.ops.stats;

import dev.hopper.ops.cli.Converters;
import dev.hopper.ops.cli.ExitCodes;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.Output;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hopper stats}: ready messages and consumers of every work, retry and dead queue. Exit 1 when a queue
 * of the configuration is missing on the broker.
 */
@Command(mixinStandardHelpOptions = true, name = "stats", description = "Depth (ready messages) and consumers of every work, retry-tier and dead "
        + "queue, read with passive declares. A tier queue holds the retries and the delayed tasks (publish --delay "
        + "or --at, coalesced runs not yet due) waiting for its TTL; the text output sums them per work queue. "
        + "Without --config, --queue finds the retry tiers of the built-in policies (default and --webhook); pass "
        + "--config for others.",
        footerHeading = "%nExample:%n", footer = "  hopper stats --config hopper.yml --json")
public final class StatsCommand implements Callable<Integer>, CommandGroup {
    @Spec
    CommandSpec spec;

    @Option(names = "--queue", paramLabel = "QUEUE", converter = Converters.WorkQueueConverter.class,
            description = "Only this work queue (and its retry and dead queues).")
    @Nullable String queue;

    @Override
    public Integer call() {
        GlobalOptions global = GlobalOptions.of(spec);
        HopperConfig config = global.configFor(queue);
        List<QueueDepths.Depth> depths;
        try (BrokerConnection c = BrokerConnection.open(global.brokerConfig("hopper-stats"));
                QueueDepths reader = new QueueDepths(c)) {
            if (global.config() == null && queue != null) {
                // No configuration to say which tiers the queue was declared with: look for the built-in ones, so
                // a --webhook worker's queue (5m, 1h) is not reported as missing the default tiers.
                depths = reader.readDiscoveringTiers(queue, List.of(QueueSpec.builder(queue).build(),
                        QueueSpec.builder(queue).retry(RetryPolicy.RETRY_FOR_A_DAY).build()));
            } else {
                depths = reader.read(config);
            }
        }
        List<Map<String, ?>> rows = new ArrayList<>();
        long missing = 0;
        for (QueueDepths.Depth d : depths) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("queue", d.queue());
            m.put("work_queue", d.workQueue());
            m.put("kind", d.kind().name().toLowerCase(Locale.ROOT));
            m.put("tier", d.tier());
            m.put("messages", d.messages());
            m.put("consumers", d.consumers());
            m.put("state", d.exists() ? "ok" : "missing");
            rows.add(m);
            if (!d.exists()) {
                missing++;
            }
        }
        Output out = GlobalOptions.of(spec).output();
        out.table(List.of("queue", "kind", "tier", "messages", "consumers", "state"), rows);
        waitingInTiers(depths).forEach(out::note);
        if (missing > 0) {
            return GlobalOptions.of(spec).failure(missing + " queue(s) missing on "
                    + GlobalOptions.of(spec).brokerConfig("hopper-stats").redactedUri()
                    + "; create them with 'hopper topology declare'");
        }
        return ExitCodes.OK;
    }

    /**
     * One sentence per work queue with tasks in its delay tiers: how many wait there (retries and delayed tasks
     * alike: the broker cannot tell them apart without reading them), and in which tier.
     */
    static List<String> waitingInTiers(List<QueueDepths.Depth> depths) {
        Map<String, List<QueueDepths.Depth>> byQueue = new LinkedHashMap<>();
        for (QueueDepths.Depth d : depths) {
            if (d.kind() == QueueDepths.Kind.RETRY && d.messages() != null && d.messages() > 0) {
                byQueue.computeIfAbsent(d.workQueue(), q -> new ArrayList<>()).add(d);
            }
        }
        List<String> notes = new ArrayList<>();
        byQueue.forEach((queue, tiers) -> {
            long total = tiers.stream().mapToLong(t -> t.messages() == null ? 0 : t.messages()).sum();
            StringBuilder perTier = new StringBuilder();
            for (QueueDepths.Depth t : tiers) {
                perTier.append(perTier.length() == 0 ? "" : ", ").append(t.tier()).append(": ").append(t.messages());
            }
            notes.add(queue + ": " + total + " task(s) waiting in delay tiers (retries and delayed tasks; "
                    + perTier + ")");
        });
        return notes;
    }
}
