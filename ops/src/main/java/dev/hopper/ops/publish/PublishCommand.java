package dev.hopper.ops.publish;

import dev.hopper.ops.cli.Converters;
import dev.hopper.ops.cli.ExitCodes;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.Output;
import dev.hopper.ops.cli.ProgressLine;
import dev.hopper.publisher.PublisherMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.publisher.BatchPublishException;
import dev.hopper.publisher.BatchResult;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.PublishReceipt;
import dev.hopper.publisher.Task;
import dev.hopper.publisher.TaskPublisher;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hopper publish}: publishes tasks with confirms through {@link TaskPublisher}. Exit 0 only when the broker
 * confirmed every task; a malformed {@code --payload} is a usage error (exit 2) and publishes nothing.
 */
@Command(mixinStandardHelpOptions = true, name = "publish",
        description = "Publish tasks to a work queue; each is confirmed by the broker. --payload publishes one "
                + "JSON payload (--count times); --file publishes each line of a JSON-lines file as one payload.",
        footerHeading = "%nExamples:%n",
        footer = {"  hopper publish --queue uploads --type thumbnail --payload '{\"file\":\"a.png\"}'",
                "  hopper publish --queue uploads --type thumbnail --file tasks.jsonl --json"})
public final class PublishCommand implements Callable<Integer>, CommandGroup {
    /** From this many tasks on, a progress line shows the confirms as they arrive. */
    static final int PROGRESS_FROM = 1000;

    @Spec
    CommandSpec spec;

    @Option(names = "--queue", required = true, paramLabel = "QUEUE", converter = Converters.WorkQueueConverter.class,
            description = "The work queue.")
    String queue;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "The task type.")
    String type;

    @Option(names = "--key", paramLabel = "KEY", description = "Entity key for lock and revision checks.")
    @Nullable String key;

    @Option(names = "--revision", paramLabel = "N",
            description = "The key's revision the task was made against (needs --key; with --redis and no "
                    + "--revision, the key's current revision is used).")
    @Nullable Long revision;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    /** Exactly one of the two payload sources. */
    static final class Source {
        @Option(names = "--payload", required = true, paramLabel = "JSON", description = "The payload, as JSON.")
        @Nullable String payload;

        @Option(names = "--file", required = true, paramLabel = "FILE",
                description = "A JSON-lines file: one payload per line (blank lines skipped).")
        @Nullable Path file;
    }

    @Option(names = "--count", paramLabel = "N", defaultValue = "1",
            description = "Publish the --payload N times, each a task of its own. Default: 1.")
    int count;

    @Override
    public Integer call() throws IOException {
        if (count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1, was " + count);
        }
        if (revision != null && key == null) {
            throw new ParameterException(spec.commandLine(), "--revision needs --key");
        }
        if (revision != null && revision < 0) {
            throw new ParameterException(spec.commandLine(), "--revision must be >= 0, was " + revision);
        }
        if (source.file != null && count != 1) {
            throw new ParameterException(spec.commandLine(), "--count repeats a --payload; a --file publishes each "
                    + "of its lines once");
        }
        List<Task> tasks = source.payload != null ? fromPayload(source.payload) : fromFile(source.file);
        List<PublishReceipt> receipts;
        BatchResult failed = null;
        // Counts confirms as they arrive, for the progress line of a big --file.
        SimpleMeterRegistry counts = new SimpleMeterRegistry();
        // With --redis, a keyed task without --revision is stamped with the key's current revision.
        try (RedisCoordinationStore store = key != null && revision == null && GlobalOptions.of(spec).redis() != null
                        ? GlobalOptions.of(spec).revisionStore() : null;
                BrokerConnection c = BrokerConnection.open(GlobalOptions.of(spec).brokerConfig("hopper-publish"));
                TaskPublisher publisher = TaskPublisher.builder().connection(c).revisionStore(store)
                        .meterRegistry(counts).build();
                ProgressLine progress = ProgressLine.onStderr(spec.commandLine().getErr())) {
            if (tasks.size() >= PROGRESS_FROM) {
                progress.polling(() -> "published " + (long) counts.find(PublisherMetrics.PUBLISHED)
                        .tag("outcome", PublisherMetrics.CONFIRMED).counters().stream()
                        .mapToDouble(Counter::count).sum() + " of " + tasks.size() + " (confirmed by the broker)");
            }
            try {
                receipts = publisher.publishAll(tasks);
            } catch (BatchPublishException e) {
                failed = e.result();
                receipts = failed.receipts();
            }
        }
        Output out = GlobalOptions.of(spec).output();
        List<Map<String, ?>> rows = new ArrayList<>();
        for (PublishReceipt r : receipts) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("message_id", r.messageId());
            m.put("queue", r.queue());
            m.put("revision", r.revision());
            m.put("confirmed_at", r.confirmedAt());
            rows.add(m);
        }
        if (!rows.isEmpty()) {
            out.details(List.of("message_id", "queue", "revision", "confirmed_at"), rows);
        }
        out.note("published " + receipts.size() + " of " + tasks.size() + " task(s) of type " + type + " to " + queue
                + ", confirmed by the broker");
        if (failed != null) {
            BatchResult.Failure first = failed.failures().get(0);
            throw new dev.hopper.topology.HopperException(failed.failures().size() + " of " + tasks.size()
                    + " task(s) failed (" + receipts.size() + " confirmed); first: " + first.error().getMessage()
                    + (first.error().mayHaveArrived() ? " (it may have arrived anyway)" : ""), first.error());
        }
        return ExitCodes.OK;
    }

    private List<Task> fromPayload(String json) {
        List<Task> tasks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            try {
                tasks.add(task(json));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--payload: " + e.getMessage());
            }
        }
        return tasks;
    }

    private List<Task> fromFile(Path file) throws IOException {
        List<Task> tasks = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    tasks.add(task(line));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " line " + number + ": " + e.getMessage()
                            + "; nothing was published", e);
                }
            }
        } catch (NoSuchFileException e) {
            throw new ParameterException(spec.commandLine(), "--file " + file + " does not exist");
        }
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException(file + " has no payloads; nothing was published");
        }
        return tasks;
    }

    private Task task(String json) {
        return Task.builder().queue(queue).type(type).key(key).revision(revision).jsonPayload(json).build();
    }
}
