package dev.hopper.ops.dlq;

import dev.hopper.ops.cli.Converters;
import dev.hopper.ops.cli.ExitCodes;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.Output;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.ops.cli.Operator;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.ops.dlq.DeadLetter;
import dev.hopper.ops.dlq.DeadLetterBrowser;
import dev.hopper.ops.dlq.DeadLetterGroups;
import dev.hopper.ops.dlq.DeadLetterImporter;
import dev.hopper.ops.dlq.DeadLetterJson;
import dev.hopper.ops.dlq.DeadLetterPurger;
import dev.hopper.ops.dlq.DeadLetterReplayer;
import dev.hopper.ops.dlq.DlqFilter;
import dev.hopper.ops.dlq.ReplayReport;
import dev.hopper.ops.dlq.ReplayRequest;
import dev.hopper.ops.dlq.ScanReport;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.QueueNames;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hopper dlq list|show|replay|purge|export|import|groups}: parsing only; the work is done by the plain
 * classes of {@link dev.hopper.ops.dlq}.
 */
@Command(mixinStandardHelpOptions = true, name = "dlq", description = "Inspect, replay, purge, export and import dead letters.",
        footerHeading = "%nExample:%n",
        footer = "  hopper dlq replay --queue uploads --reason exhausted --error-class java.io.IOException",
        subcommands = {DlqCommand.ListLetters.class, DlqCommand.Show.class, DlqCommand.Replay.class,
                DlqCommand.Purge.class, DlqCommand.Export.class, DlqCommand.Import.class, DlqCommand.Groups.class})
public final class DlqCommand implements CommandGroup {
    /** How long a pass waits for the next dead letter before deciding there are no more for it. */
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);


    /** {@code --queue Q}: the work queue whose dead queue {@code Q.dead} is used. */
    static final class QueueOption {
        @Option(names = "--queue", required = true, paramLabel = "QUEUE",
                converter = Converters.WorkQueueConverter.class,
                description = "The work queue; its dead letters are in QUEUE.dead.")
        String queue;
    }

    /** The filters every selecting verb shares. */
    static final class FilterOptions {
        @Option(names = "--id", paramLabel = "ID", description = "Only this message id (repeatable).")
        List<String> ids = new ArrayList<>();

        @Option(names = "--type", paramLabel = "TYPE", description = "Only this task type.")
        @Nullable String type;

        @Option(names = "--reason", paramLabel = "REASON", converter = Converters.DeadReasonConverter.class,
                description = "Only this dead reason: exhausted, permanent, malformed, unknown-type, poison, "
                        + "lock-timeout, hop-limit.")
        @Nullable String reason;

        @Option(names = "--error-class", paramLabel = "CLASS",
                description = "Only failures of this exception class (full or simple name).")
        @Nullable String errorClass;

        @Option(names = "--older-than", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
                description = "Only dead letters that failed more than this long ago (e.g. 7d, 12h), by "
                        + "x-hopper-failed-at.")
        @Nullable Duration olderThan;

        @Option(names = "--group", paramLabel = "GROUP", description = "Only this group (see 'hopper dlq groups').")
        @Nullable String group;

        @Option(names = "--limit", paramLabel = "N", description = "At most N matching dead letters.")
        @Nullable Integer limit;

        DlqFilter filter(CommandSpec spec) {
            if (limit != null && limit < 1) {
                throw new ParameterException(spec.commandLine(), "--limit must be at least 1, was " + limit);
            }
            return DlqFilter.builder().ids(ids).type(type).reason(reason).errorClass(errorClass)
                    .olderThan(olderThan).group(group).limit(limit == null ? DlqFilter.NO_LIMIT : limit).build();
        }
    }

    static void warn(CommandSpec spec, ScanReport report) {
        report.warning().ifPresent(w -> {
            spec.commandLine().getErr().println("hopper: warning: " + w);
            spec.commandLine().getErr().flush();
        });
    }

    static Map<String, Object> summaryRow(DeadLetter d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.messageId());
        m.put("type", d.type());
        m.put("reason", d.reason());
        m.put("error_class", d.errorClass());
        m.put("attempts", d.attempt());
        m.put("failed_at", d.failedAt());
        m.put("group", d.groupId());
        return m;
    }

    static final List<String> LIST_COLUMNS = List.of("id", "type", "reason", "error_class", "attempts", "failed_at",
            "group");

    @Command(mixinStandardHelpOptions = true, name = "list", description = "List dead letters in queue order; nothing is removed or reordered.",
            footerHeading = "%nExample:%n", footer = "  hopper dlq list --queue uploads --reason exhausted --limit 20")
    static final class ListLetters implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        QueueOption queue;
        @Mixin
        FilterOptions filters;

        @Override
        public Integer call() {
            GlobalOptions root = GlobalOptions.of(spec);
            DlqFilter filter = filters.filter(spec);
            List<Map<String, ?>> rows = new ArrayList<>();
            ScanReport report;
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-dlq-list"))) {
                report = new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT)
                        .browse(queue.queue, filter, d -> rows.add(summaryRow(d)));
            }
            Output out = GlobalOptions.of(spec).output();
            out.table(LIST_COLUMNS, rows);
            out.note(report.matched() + " of " + report.depth() + " dead letters in " + report.deadQueue()
                    + " (filter: " + filter.describe() + ")");
            warn(spec, report);
            return ExitCodes.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "show", description = "Show one dead letter's properties, headers and payload.",
            footerHeading = "%nExample:%n",
            footer = "  hopper dlq show --queue uploads 6f1c2b9e-3d4a-4e59-9a51-1c2f0e8d7b10")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        QueueOption queue;
        @Parameters(index = "0", paramLabel = "ID", description = "The message id.")
        String id;

        @Override
        public Integer call() {
            GlobalOptions root = GlobalOptions.of(spec);
            DeadLetter letter;
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-dlq-show"))) {
                letter = new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT).find(queue.queue, id)
                        .orElse(null);
            }
            if (letter == null) {
                throw new dev.hopper.topology.HopperException("no dead letter with id '" + id + "' in "
                        + QueueNames.deadQueue(queue.queue) + "; list them with 'hopper dlq list --queue "
                        + queue.queue + "'");
            }
            Map<String, Object> record = new LinkedHashMap<>();
            new DeadLetterJson().toJson(letter.properties(), letter.body()).fields().forEachRemaining(e -> {
                if (e.getKey().equals("headers")) {
                    record.put("group", letter.groupId());
                    record.put("top_frame", letter.topFrame());
                    record.put("headers", new ObjectMapper().convertValue(e.getValue(),
                            new TypeReference<LinkedHashMap<String, Object>>() {}));
                } else {
                    record.put(e.getKey(), e.getValue());
                }
            });
            GlobalOptions.of(spec).output().record(record);
            return ExitCodes.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "replay", description = "Send dead letters back to their work queue (or --to another). Each "
            + "copy is confirmed by the broker before its dead letter is removed; the rest stay in order.",
            footerHeading = "%nExamples:%n",
            footer = {"  hopper dlq replay --queue uploads --group 3fa2c1d0 --dry-run",
                    "  hopper dlq replay --queue uploads --reason exhausted --reset-attempts --rate 50"})
    static final class Replay implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        QueueOption queue;
        @Mixin
        FilterOptions filters;

        @Option(names = "--to", paramLabel = "QUEUE", converter = Converters.WorkQueueConverter.class,
                description = "Replay into this work queue instead of each message's origin queue.")
        @Nullable String to;

        @Option(names = "--reset-attempts", description = "Give the tasks their full retry budget again.")
        boolean resetAttempts;

        @Option(names = "--dry-run", description = "Print what would be replayed; change nothing.")
        boolean dryRun;

        @Option(names = "--rate", paramLabel = "N", description = "At most N replays per second.")
        @Nullable Integer rate;

        @Override
        public Integer call() {
            GlobalOptions root = GlobalOptions.of(spec);
            if (rate != null && rate < 1) {
                throw new ParameterException(spec.commandLine(), "--rate must be at least 1, was " + rate);
            }
            ReplayRequest request = ReplayRequest.builder(queue.queue).filter(filters.filter(spec)).to(to)
                    .resetAttempts(resetAttempts).dryRun(dryRun).ratePerSecond(rate == null ? 0 : rate).build();
            PrintWriter err = spec.commandLine().getErr();
            TtyProgress progress = System.console() != null ? new TtyProgress(err, System::nanoTime) : null;
            ReplayReport report;
            try (BrokerConnection consume = BrokerConnection.open(root.brokerConfig("hopper-dlq-replay"));
                    BrokerConnection publish = BrokerConnection.open(root.brokerConfig("hopper-dlq-replay-publish"))) {
                report = new DeadLetterReplayer(consume, publish, Clock.systemUTC(), IDLE_TIMEOUT, Operator.name())
                        .replay(request, progress == null ? DeadLetterReplayer.Progress.NONE : progress);
            } finally {
                if (progress != null) {
                    progress.finish();
                }
            }
            Output out = GlobalOptions.of(spec).output();
            ScanReport scan = report.scan();
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("dry_run", dryRun);
            fields.put("dead_queue", scan.deadQueue());
            fields.put("scanned", scan.scanned());
            fields.put("selected", scan.matched());
            fields.put("replayed", report.replayed());
            fields.put("failed", report.failed());
            fields.put("destinations", report.byDestination());
            if (dryRun) {
                List<Map<String, ?>> rows = new ArrayList<>();
                for (ReplayReport.Planned p : report.planned()) {
                    Map<String, Object> row = summaryRow(p.letter());
                    row.put("destination", p.destination());
                    rows.add(row);
                }
                List<String> columns = new ArrayList<>(LIST_COLUMNS);
                columns.add("destination");
                out.table(columns, rows);
                out.result("dry run: would replay " + scan.matched() + " of " + scan.depth() + " dead letters in "
                        + scan.deadQueue() + " " + destinations(report) + "; nothing was changed", fields);
            } else {
                out.result("replayed " + report.replayed() + " of " + scan.depth() + " dead letters in "
                        + scan.deadQueue() + " " + destinations(report) + " (filter: "
                        + request.filter().describe() + ")", fields);
            }
            warn(spec, scan);
            if (!report.ok()) {
                err.println("hopper: " + report.failed() + " dead letter(s) not replayed and left in "
                        + scan.deadQueue() + ": " + report.firstFailure());
                err.flush();
                return ExitCodes.FAILURE;
            }
            return ExitCodes.OK;
        }

        private static String destinations(ReplayReport report) {
            if (report.byDestination().isEmpty()) {
                return "";
            }
            List<String> parts = new ArrayList<>();
            report.byDestination().forEach((q, n) -> parts.add(q + " (" + n + ")"));
            return "to " + String.join(", ", parts);
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "purge", description = "Delete dead letters for good (needs --yes). Hopper never deletes dead "
            + "letters on its own; purge with --older-than is how retention is done.",
            footerHeading = "%nExample:%n", footer = "  hopper dlq purge --queue uploads --older-than 7d --yes")
    static final class Purge implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        QueueOption queue;
        @Mixin
        FilterOptions filters;

        @Option(names = "--yes", description = "Confirm the deletion.")
        boolean yes;

        @Override
        public Integer call() {
            GlobalOptions root = GlobalOptions.of(spec);
            DlqFilter filter = filters.filter(spec);
            if (!yes) {
                throw new ParameterException(spec.commandLine(), "purge deletes dead letters for good; add --yes "
                        + "to confirm (preview with 'hopper dlq list' and the same filters)");
            }
            ScanReport report;
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-dlq-purge"))) {
                report = new DeadLetterPurger(c, Clock.systemUTC(), IDLE_TIMEOUT, Operator.name())
                        .purge(queue.queue, filter);
            }
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("dead_queue", report.deadQueue());
            fields.put("scanned", report.scanned());
            fields.put("purged", report.matched());
            GlobalOptions.of(spec).output().result("purged " + report.matched() + " dead letters from " + report.deadQueue()
                    + " (filter: " + filter.describe() + ")", fields);
            warn(spec, report);
            return ExitCodes.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "export", description = "Write dead letters as JSON lines (properties, headers, payload; "
            + "base64 for non-JSON bodies) to a file or stdout. The dead queue is left as it was.",
            footerHeading = "%nExample:%n", footer = "  hopper dlq export --queue uploads --file uploads-dead.jsonl")
    static final class Export implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        QueueOption queue;
        @Mixin
        FilterOptions filters;

        @Option(names = "--file", paramLabel = "FILE", description = "Write here instead of stdout.")
        @Nullable Path file;

        @Override
        public Integer call() throws IOException {
            GlobalOptions root = GlobalOptions.of(spec);
            DlqFilter filter = filters.filter(spec);
            DeadLetterJson json = new DeadLetterJson();
            Writer target = file == null ? spec.commandLine().getOut()
                    : Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            ScanReport report;
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-dlq-export"))) {
                BufferedWriter w = new BufferedWriter(target);
                report = new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT).browse(queue.queue, filter, d -> {
                    try {
                        w.write(json.toLine(d.properties(), d.body()));
                        w.write('\n');
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                w.flush();
            } catch (UncheckedIOException e) {
                throw new IOException("cannot write " + (file == null ? "stdout" : file) + ": "
                        + e.getCause().getMessage(), e.getCause());
            } finally {
                if (file != null) {
                    target.close();
                }
            }
            String text = "exported " + report.matched() + " of " + report.depth() + " dead letters in "
                    + report.deadQueue() + (file == null ? "" : " to " + file);
            if (file == null) {
                // stdout carries the data: the summary goes to stderr.
                spec.commandLine().getErr().println(text);
                spec.commandLine().getErr().flush();
            } else {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("dead_queue", report.deadQueue());
                fields.put("exported", report.matched());
                fields.put("file", file.toString());
                GlobalOptions.of(spec).output().result(text, fields);
            }
            warn(spec, report);
            return ExitCodes.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "import", description = "Read JSON lines written by 'hopper dlq export' back into the dead "
            + "queue (default) or the work queue, each publish confirmed by the broker. A malformed line "
            + "publishes nothing.",
            footerHeading = "%nExample:%n",
            footer = "  hopper dlq import --queue uploads --file uploads-dead.jsonl --into work")
    static final class Import implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        QueueOption queue;

        @Option(names = "--file", required = true, paramLabel = "FILE", description = "JSON lines; - for stdin.")
        String file;

        @Option(names = "--into", paramLabel = "dead|work", defaultValue = "dead",
                description = "The queue to import into: dead (QUEUE.dead) or work (QUEUE). Default: dead.")
        String into;

        @Override
        public Integer call() throws IOException {
            GlobalOptions root = GlobalOptions.of(spec);
            DeadLetterImporter.Target target;
            if (into.equals("dead")) {
                target = DeadLetterImporter.Target.DEAD;
            } else if (into.equals("work")) {
                target = DeadLetterImporter.Target.WORK;
            } else {
                throw new ParameterException(spec.commandLine(), "--into must be dead or work, was '" + into + "'");
            }
            long n;
            try (java.io.InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file));
                    BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-dlq-import"))) {
                n = new DeadLetterImporter(c, Operator.name()).importLines(in, queue.queue, target);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IOException("file " + file + " does not exist", e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
            String dest = target == DeadLetterImporter.Target.DEAD ? QueueNames.deadQueue(queue.queue) : queue.queue;
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("queue", dest);
            fields.put("imported", n);
            GlobalOptions.of(spec).output().result("imported " + n + " messages into " + dest, fields);
            return ExitCodes.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "groups", description = "Group dead letters by reason, error class and top stack frame, "
            + "largest first. Replay one group with 'hopper dlq replay --group ID'.",
            footerHeading = "%nExample:%n", footer = "  hopper dlq groups --queue uploads")
    static final class Groups implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        QueueOption queue;
        @Mixin
        FilterOptions filters;

        @Override
        public Integer call() {
            GlobalOptions root = GlobalOptions.of(spec);
            DlqFilter filter = filters.filter(spec);
            DeadLetterGroups groups = new DeadLetterGroups();
            ScanReport report;
            try (BrokerConnection c = BrokerConnection.open(root.brokerConfig("hopper-dlq-groups"))) {
                report = new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT).browse(queue.queue, filter,
                        groups::add);
            }
            List<Map<String, ?>> rows = new ArrayList<>();
            for (DeadLetterGroups.Group g : groups.groups()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("group", g.id());
                m.put("count", g.count());
                m.put("reason", g.reason());
                m.put("error_class", g.errorClass());
                m.put("top_frame", g.topFrame());
                m.put("first_failed_at", g.firstFailedAt());
                m.put("last_failed_at", g.lastFailedAt());
                rows.add(m);
            }
            Output out = GlobalOptions.of(spec).output();
            out.table(List.of("group", "count", "reason", "error_class", "top_frame", "first_failed_at",
                    "last_failed_at"), rows);
            out.note(rows.size() + " group(s) of " + report.matched() + " dead letters in " + report.deadQueue());
            warn(spec, report);
            return ExitCodes.OK;
        }
    }
}
