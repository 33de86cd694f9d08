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
import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.publisher.BatchPublishException;
import dev.hopper.publisher.BatchResult;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.PublishReceipt;
import dev.hopper.publisher.Task;
import dev.hopper.publisher.TaskPublisher;
import dev.hopper.topology.CoalesceWindow;
import dev.hopper.topology.QueueSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * confirmed every task (or, for {@code --coalesce}, the coordination store absorbed it into a pending run); a
 * malformed {@code --payload} or a bad combination of options is a usage error (exit 2) and publishes nothing.
 * Delayed tasks ({@code --delay}, {@code --at}, or per line of {@code --file}, see {@link TaskLine}) go through the
 * delay tiers of the queue as {@code --config} declares it (the default tiers without one).
 *
 * <p>Tasks the broker did not confirm (a lost connection, a node lost from a cluster, a timeout) are written to the
 * {@code --unconfirmed-to} file (by default {@code FILE.unconfirmed.jsonl} for {@code --file FILE}, and the file
 * itself for {@code --resume}), each with its message id; {@code --resume} sends exactly those again under the
 * same ids, so workers with done-markers run a task that had arrived after all only once ({@link UnconfirmedTasks}).
 */
@Command(mixinStandardHelpOptions = true, name = "publish",
        description = "Publish tasks to a work queue; each is confirmed by the broker. --payload publishes one "
                + "JSON payload (--count times); --file publishes each line of a JSON-lines file as one payload, "
                + "or a task line {\"payload\": ..., \"key\"?: ..., \"delay\"?: \"30s\", "
                + "\"not_before\"?: \"2026-12-24T18:00:00Z\" or epoch ms}.",
        footerHeading = "%nExamples:%n",
        footer = {"  hopper publish --queue uploads --type thumbnail --payload '{\"file\":\"a.png\"}'",
                "  hopper publish --queue uploads --type thumbnail --file tasks.jsonl --json",
                "  hopper publish --resume tasks.jsonl.unconfirmed.jsonl   (send the unconfirmed tasks again)",
                "  hopper publish --queue mail --type reminder --payload '{\"user\":7}' --delay 30m",
                "  hopper publish --queue mail --type reminder --payload '{\"user\":7}' --at 2026-12-24T18:00:00Z",
                "  hopper --redis redis://localhost:6379 publish --queue mail --type digest --key user:7 \\",
                "      --payload '{\"event\":42}' --coalesce --debounce 30s --max-delay 5m"})
public final class PublishCommand implements Callable<Integer>, CommandGroup {
    /** From this many tasks on, a progress line shows the confirms as they arrive. */
    static final int PROGRESS_FROM = 1000;

    @Spec
    CommandSpec spec;

    @Option(names = "--queue", paramLabel = "QUEUE", converter = Converters.WorkQueueConverter.class,
            description = "The work queue (required, except with --resume).")
    @Nullable String queue;

    @Option(names = "--type", paramLabel = "TYPE", description = "The task type (required, except with --resume).")
    @Nullable String type;

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

        @Option(names = "--resume", required = true, paramLabel = "FILE",
                description = "Send again, with their message ids, the tasks an earlier run wrote to its "
                        + "--unconfirmed-to file (queue, type, key and revision come from the file).")
        @Nullable Path resume;
    }

    @Option(names = "--unconfirmed-to", paramLabel = "FILE",
            description = "On failure, write the tasks the broker did not confirm here, for --resume (default: "
                    + "FILE.unconfirmed.jsonl with --file, the --resume file itself with --resume).")
    @Nullable Path unconfirmedTo;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1",
            description = "Publish the --payload N times, each a task of its own. Default: 1.")
    int count;

    @Option(names = "--delay", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
            description = "Run no sooner than this after publishing (500ms, 30s, 5m, 1h, 1d); waits in the queue's "
                    + "delay tiers.")
    @Nullable Duration delay;

    @Option(names = "--at", paramLabel = "INSTANT", converter = Converters.InstantConverter.class,
            description = "Run no sooner than this instant (2026-12-24T18:00:00Z).")
    @Nullable Instant at;

    @Option(names = "--coalesce",
            description = "Coalesce runs per queue, type and --key: the first publish runs at once, later ones join "
                    + "one pending run (needs --key, --debounce, --max-delay and --redis).")
    boolean coalesce;

    @Option(names = "--debounce", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
            description = "With --coalesce: how far each publish moves the pending run, and the least time between "
                    + "two runs.")
    @Nullable Duration debounce;

    @Option(names = "--max-delay", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
            description = "With --coalesce: the latest a pending run may start after the last run started.")
    @Nullable Duration maxDelay;

    @Override
    public Integer call() throws IOException {
        if (source.resume != null) {
            if (queue != null || type != null || key != null || revision != null || count != 1 || delay != null
                    || at != null || coalesce) {
                throw new ParameterException(spec.commandLine(), "--resume takes queue, type, key and revision "
                        + "from its file; leave out --queue, --type, --key, --revision, --count and the timing options");
            }
        } else if (queue == null || type == null) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '"
                    + (queue == null ? "--queue=QUEUE" : "--type=TYPE") + "'");
        }
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
        checkTiming();
        GlobalOptions global = GlobalOptions.of(spec);
        List<Integer> lines = new ArrayList<>();
        List<Task> tasks = source.payload != null ? fromPayload(source.payload)
                : source.file != null ? fromFile(source.file, lines) : fromResume(source.resume);
        Path unconfirmedFile = unconfirmedTo != null ? unconfirmedTo
                : source.file != null ? Path.of(source.file + ".unconfirmed.jsonl") : source.resume;
        // Every queue spec of the config, for its delay tiers; without --config the queue has the default tiers.
        // A --resume file names its queues: without --config they have the default tiers.
        List<QueueSpec> specs = source.resume != null && global.config() == null
                ? tasks.stream().map(Task::queue).distinct().map(q -> QueueSpec.builder(q).build()).toList()
                : List.copyOf(global.configFor(queue).queues().values());
        List<PublishReceipt> receipts;
        BatchResult failed = null;
        // Counts confirms as they arrive, for the progress line of a big --file.
        SimpleMeterRegistry counts = new SimpleMeterRegistry();
        // With --redis, a keyed task without --revision is stamped with the key's current revision; coalescing state
        // lives there too.
        boolean stamps = tasks.stream().anyMatch(t -> t.key() != null && t.revision() == null) && global.redis() != null;
        try (RedisCoordinationStore store = stamps || coalesce ? global.revisionStore() : null;
                BrokerConnection c = BrokerConnection.open(global.brokerConfig("hopper-publish"));
                TaskPublisher publisher = TaskPublisher.builder().connection(c).revisionStore(stamps ? store : null)
                        .coalescingStore(store).queues(specs).meterRegistry(counts).build();
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
        Output out = global.output();
        boolean scheduled = receipts.stream().anyMatch(r -> r.notBefore() != null || r.absorbed());
        List<Map<String, ?>> rows = new ArrayList<>();
        for (PublishReceipt r : receipts) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("message_id", r.messageId());
            m.put("queue", r.queue());
            m.put("revision", r.revision());
            m.put("confirmed_at", r.confirmedAt());
            if (scheduled) {
                m.put("not_before", r.notBefore());
                m.put("coalesced_into", r.coalescedInto());
            }
            rows.add(m);
        }
        if (!rows.isEmpty()) {
            List<String> columns = new ArrayList<>(List.of("message_id", "queue", "revision", "confirmed_at"));
            if (scheduled) {
                columns.addAll(List.of("not_before", "coalesced_into"));
            }
            out.details(columns, rows);
        }
        long absorbed = receipts.stream().filter(PublishReceipt::absorbed).count();
        long delayed = receipts.stream().filter(r -> !r.absorbed() && r.notBefore() != null).count();
        out.note("published " + (receipts.size() - absorbed) + " of " + tasks.size() + " task(s)"
                + (source.resume != null ? " from " + source.resume : " of type " + type + " to " + queue)
                + ", confirmed by the broker"
                + (delayed > 0 ? "; " + delayed + " delayed" : "")
                + (absorbed > 0 ? "; " + absorbed + " absorbed into a pending coalesced run" : ""));
        if (failed != null) {
            BatchResult.Failure first = failed.failures().get(0);
            String kept;
            if (unconfirmedFile == null) {
                kept = "; pass --unconfirmed-to FILE to keep them for --resume";
            } else {
                new UnconfirmedTasks().write(unconfirmedFile, failed, lines);
                long unknown = failed.failures().stream().filter(f -> f.error().mayHaveArrived()).count();
                kept = "; " + failed.failures().size() + " unconfirmed (" + unknown + " may have arrived) written to "
                        + unconfirmedFile + ": send exactly those again with 'hopper publish --resume "
                        + unconfirmedFile + "'";
            }
            throw new dev.hopper.topology.HopperException(failed.failures().size() + " of " + tasks.size()
                    + " task(s) failed (" + receipts.size() + " confirmed); first: " + first.error().getMessage()
                    + (first.error().mayHaveArrived() ? " (it may have arrived anyway)" : "") + kept, first.error());
        }
        if (source.resume != null && unconfirmedTo == null) {
            // Every task of the resume file is confirmed now: a rerun must not send them yet again.
            Files.deleteIfExists(source.resume);
            out.note("all tasks of " + source.resume + " confirmed; removed it");
        }
        return ExitCodes.OK;
    }

    private List<Task> fromPayload(String json) {
        List<Task> tasks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            try {
                tasks.add(task(new TaskLine(json.getBytes(StandardCharsets.UTF_8), null, null, null)));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--payload: " + e.getMessage());
            }
        }
        return tasks;
    }

    private List<Task> fromResume(Path file) throws IOException {
        List<Task> tasks;
        try {
            tasks = new UnconfirmedTasks().read(file);
        } catch (NoSuchFileException e) {
            throw new ParameterException(spec.commandLine(), "--resume " + file + " does not exist");
        }
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException(file + " has no tasks; nothing was published");
        }
        return tasks;
    }

    private List<Task> fromFile(Path file, List<Integer> lines) throws IOException {
        List<Task> tasks = new ArrayList<>();
        try {
            NumberedLines.read(file, (number, line) -> {
                try {
                    tasks.add(task(TaskLine.parse(line)));
                    lines.add(number);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " line " + number + ": " + e.getMessage()
                            + "; nothing was published", e);
                }
            });
        } catch (NoSuchFileException e) {
            throw new ParameterException(spec.commandLine(), "--file " + file + " does not exist");
        }
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException(file + " has no payloads; nothing was published");
        }
        return tasks;
    }

    /** Bad combinations of the timing options are usage errors, reported before anything is opened or sent. */
    private void checkTiming() {
        if (delay != null && at != null) {
            throw new ParameterException(spec.commandLine(), "give --delay or --at, not both");
        }
        if (delay != null && delay.isNegative()) {
            throw new ParameterException(spec.commandLine(), "--delay must be >= 0");
        }
        if (!coalesce) {
            if (debounce != null || maxDelay != null) {
                throw new ParameterException(spec.commandLine(), "--debounce and --max-delay need --coalesce");
            }
            return;
        }
        if (key == null && source.file == null) {
            throw new ParameterException(spec.commandLine(), "--coalesce needs --key: runs are coalesced per queue, "
                    + "type and key");
        }
        if (debounce == null || maxDelay == null) {
            throw new ParameterException(spec.commandLine(), "--coalesce needs --debounce DURATION and --max-delay "
                    + "DURATION");
        }
        if (delay != null || at != null) {
            throw new ParameterException(spec.commandLine(), "--coalesce takes no --delay or --at: the coalescing "
                    + "window decides when the run happens");
        }
        if (GlobalOptions.of(spec).redis() == null) {
            throw new ParameterException(spec.commandLine(), "--coalesce keeps its state in the coordination store the "
                    + "workers share: pass --redis redis://host:6379 or set REDIS_URI");
        }
        try {
            new CoalesceWindow(debounce, maxDelay);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--debounce/--max-delay: " + e.getMessage());
        }
    }

    private Task task(TaskLine parsed) {
        Task.Builder b = Task.builder().queue(queue).type(type).key(parsed.key() != null ? parsed.key() : key)
                .revision(revision).jsonPayload(parsed.payload());
        if (parsed.delay() != null || parsed.notBefore() != null) {
            if (coalesce) {
                throw new IllegalArgumentException("a line of a --coalesce publish takes no \"delay\" or "
                        + "\"not_before\": the coalescing window decides when the run happens");
            }
            if (parsed.notBefore() != null) {
                b.notBefore(parsed.notBefore());
            } else {
                b.delay(parsed.delay());
            }
        } else if (delay != null) {
            b.delay(delay);
        } else if (at != null) {
            b.notBefore(at);
        }
        if (coalesce) {
            b.coalesce(requireNonNull(debounce), requireNonNull(maxDelay));
        }
        return b.build();
    }
}
