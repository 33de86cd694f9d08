package dev.hopper.ops.dlq;

import dev.hopper.ops.cli.Converters;
import dev.hopper.ops.cli.ExitCodes;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.Output;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.ops.cli.Operator;
import dev.hopper.ops.cli.ProgressLine;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.HopperException;
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

        @Option(names = "--key", paramLabel = "KEY", description = "Only this entity key (x-hopper-key), e.g. "
                + "repo:42: every dead letter of one entity.")
        @Nullable String key;

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
    }

    /**
     * What every selecting verb ({@code list}, {@code replay}, {@code purge}, {@code export}, {@code groups})
     * shares: {@code --queue}, the filters, and how it connects, reports and checks a group id.
     */
    static final class Selection {
        @Spec(Spec.Target.MIXEE)
        CommandSpec spec;
        @Mixin
        QueueOption queueOption;
        @Mixin
        FilterOptions filters;

        String queue() {
            return queueOption.queue;
        }

        DlqFilter filter() {
            if (filters.limit != null && filters.limit < 1) {
                throw new ParameterException(spec.commandLine(), "--limit must be at least 1, was " + filters.limit);
            }
            return DlqFilter.builder().ids(filters.ids).type(filters.type).key(filters.key).reason(filters.reason)
                    .errorClass(filters.errorClass).olderThan(filters.olderThan).group(filters.group)
                    .limit(filters.limit == null ? DlqFilter.NO_LIMIT : filters.limit).build();
        }

        GlobalOptions global() {
            return GlobalOptions.of(spec);
        }

        BrokerConnection connect(String connectionName) {
            return BrokerConnection.open(global().brokerConfig(connectionName));
        }

        void warn(ScanReport report) {
            DlqCommand.warn(spec, report);
        }

        /**
         * When {@code --group} selected nothing because no dead letter of the queue is in that group (a typo, or a
         * group id from another queue), fails naming the groups that exist: an empty result would look like
         * success.
         *
         * @throws HopperException (exit 1) for an unknown group
         */
        void requireKnownGroup(BrokerConnection c, ScanReport report) {
            String group = filters.group;
            if (group == null || report.matched() > 0) {
                return;
            }
            DeadLetterGroups groups = new DeadLetterGroups();
            new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT).browse(queue(), DlqFilter.ALL, groups::add);
            if (groups.groups().stream().anyMatch(g -> g.id().equals(group))) {
                return;
            }
            List<String> known = new ArrayList<>();
            for (DeadLetterGroups.Group g : groups.groups()) {
                known.add(g.id() + " (" + g.count() + " " + g.reason() + " " + g.errorClass() + ")");
            }
            throw new HopperException("no such group '" + group + "' in " + report.deadQueue() + "; "
                    + (known.isEmpty() ? "it has no dead letters" : "its groups are " + String.join(", ", known)));
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
        @Mixin
        Selection sel;

        @Override
        public Integer call() {
            DlqFilter filter = sel.filter();
            List<Map<String, ?>> rows = new ArrayList<>();
            ScanReport report;
            try (BrokerConnection c = sel.connect("hopper-dlq-list")) {
                report = new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT)
                        .browse(sel.queue(), filter, d -> rows.add(summaryRow(d)));
                sel.requireKnownGroup(c, report);
            }
            Output out = sel.global().output();
            out.table(LIST_COLUMNS, rows);
            out.note(report.matched() + " of " + report.depth() + " dead letters in " + report.deadQueue()
                    + " (filter: " + filter.describe() + ")");
            sel.warn(report);
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
            DeadLetter letter;
            try (BrokerConnection c = BrokerConnection.open(GlobalOptions.of(spec).brokerConfig("hopper-dlq-show"))) {
                letter = new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT).find(queue.queue, id)
                        .orElse(null);
            }
            if (letter == null) {
                throw new HopperException("no dead letter with id '" + id + "' in "
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
        @Mixin
        Selection sel;

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
            if (rate != null && rate < 1) {
                throw new ParameterException(sel.spec.commandLine(), "--rate must be at least 1, was " + rate);
            }
            ReplayRequest request = ReplayRequest.builder(sel.queue()).filter(sel.filter()).to(to)
                    .resetAttempts(resetAttempts).dryRun(dryRun).ratePerSecond(rate == null ? 0 : rate).build();
            PrintWriter err = sel.spec.commandLine().getErr();
            TtyProgress progress = new TtyProgress(ProgressLine.onStderr(err));
            ReplayReport report;
            try (BrokerConnection consume = sel.connect("hopper-dlq-replay");
                    BrokerConnection publish = sel.connect("hopper-dlq-replay-publish")) {
                report = new DeadLetterReplayer(consume, publish, Clock.systemUTC(), IDLE_TIMEOUT, Operator.name())
                        .replay(request, progress);
                sel.requireKnownGroup(consume, report.scan());
            } finally {
                progress.finish();
            }
            Output out = sel.global().output();
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
            sel.warn(scan);
            if (!report.ok()) {
                return sel.global().failure(report.failed() + " dead letter(s) not replayed and left in "
                        + scan.deadQueue() + ": " + report.firstFailure());
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
        @Mixin
        Selection sel;

        @Option(names = "--yes", description = "Confirm the deletion.")
        boolean yes;

        @Override
        public Integer call() {
            DlqFilter filter = sel.filter();
            if (!yes) {
                throw new ParameterException(sel.spec.commandLine(), "purge deletes dead letters for good; add --yes "
                        + "to confirm (preview with 'hopper dlq list' and the same filters)");
            }
            ScanReport report;
            try (BrokerConnection c = sel.connect("hopper-dlq-purge")) {
                report = new DeadLetterPurger(c, Clock.systemUTC(), IDLE_TIMEOUT, Operator.name())
                        .purge(sel.queue(), filter);
                sel.requireKnownGroup(c, report);
            }
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("dead_queue", report.deadQueue());
            fields.put("scanned", report.scanned());
            fields.put("purged", report.matched());
            sel.global().output().result("purged " + report.matched() + " dead letters from "
                    + report.deadQueue() + " (filter: " + filter.describe() + ")", fields);
            sel.warn(report);
            return ExitCodes.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "export", description = "Write dead letters as JSON lines (properties, headers, payload; "
            + "base64 for non-JSON bodies) to a file or stdout. The dead queue is left as it was.",
            footerHeading = "%nExample:%n", footer = "  hopper dlq export --queue uploads --file uploads-dead.jsonl")
    static final class Export implements Callable<Integer> {
        @Mixin
        Selection sel;

        @Option(names = "--file", paramLabel = "FILE", description = "Write here instead of stdout.")
        @Nullable Path file;

        @Override
        public Integer call() throws IOException {
            DlqFilter filter = sel.filter();
            DeadLetterJson json = new DeadLetterJson();
            Writer target = file == null ? sel.spec.commandLine().getOut()
                    : Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            ScanReport report;
            try (BrokerConnection c = sel.connect("hopper-dlq-export")) {
                BufferedWriter w = new BufferedWriter(target);
                report = new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT).browse(sel.queue(), filter, d -> {
                    try {
                        w.write(json.toLine(d.properties(), d.body()));
                        w.write('\n');
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                w.flush();
                sel.requireKnownGroup(c, report);
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
                sel.spec.commandLine().getErr().println(text);
                sel.spec.commandLine().getErr().flush();
            } else {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("dead_queue", report.deadQueue());
                fields.put("exported", report.matched());
                fields.put("file", file.toString());
                sel.global().output().result(text, fields);
            }
            sel.warn(report);
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
                    BrokerConnection c = BrokerConnection.open(GlobalOptions.of(spec).brokerConfig("hopper-dlq-import"))) {
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
        @Mixin
        Selection sel;

        @Override
        public Integer call() {
            DlqFilter filter = sel.filter();
            DeadLetterGroups groups = new DeadLetterGroups();
            ScanReport report;
            try (BrokerConnection c = sel.connect("hopper-dlq-groups")) {
                report = new DeadLetterBrowser(c, Clock.systemUTC(), IDLE_TIMEOUT).browse(sel.queue(), filter,
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
            Output out = sel.global().output();
            out.table(List.of("group", "count", "reason", "error_class", "top_frame", "first_failed_at",
                    "last_failed_at"), rows);
            out.note(rows.size() + " group(s) of " + report.matched() + " dead letters in " + report.deadQueue());
            sel.warn(report);
            return ExitCodes.OK;
        }
    }
}
