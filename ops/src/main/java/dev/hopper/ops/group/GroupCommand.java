package dev.hopper.ops.group;

import dev.hopper.coordination.FollowUpStore;
import dev.hopper.coordination.GroupView;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.ops.cli.ExitCodes;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.Output;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hopper group show PARENT_ID}: the follow-ups a parent asked for and its join, as the shared Redis store
 * records them. A child is {@code pending} (queued, running or waiting for a retry), {@code done}, or {@code dead}
 * with its dead-letter reason: workers record a dead-lettered child in the store when they dead-letter it, so this
 * command reads Redis only and never the dead-letter queues. Needs {@code --redis}: the in-memory store lives and
 * dies with its worker.
 */
@Command(mixinStandardHelpOptions = true, name = "group",
        description = "Show the follow-up tasks and join of a parent task (needs --redis or $REDIS_URI).",
        footerHeading = "%nExample:%n",
        footer = "  hopper --redis redis://localhost:6379 group show 2f1c0b7e-6a55-4f5e-9a51-0d1f5c3b8e21",
        subcommands = {GroupCommand.Show.class})
public final class GroupCommand implements CommandGroup {

    @Command(mixinStandardHelpOptions = true, name = "show",
            description = "Each follow-up of PARENT_ID (pending, done, or dead with its reason) and the join "
                    + "(waiting, published, done or dead). Exit 1 when the store holds no group for it.",
            footerHeading = "%nExample:%n",
            footer = "  hopper --redis redis://localhost:6379 group show 2f1c0b7e-6a55-4f5e-9a51-0d1f5c3b8e21")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "PARENT_ID", description = "The parent task's message id.")
        String parentId;

        @Override
        public Integer call() {
            GlobalOptions options = GlobalOptions.of(spec);
            if (options.redis() == null) {
                throw new ParameterException(spec.commandLine(), "follow-up groups live in Redis: pass --redis "
                        + "redis://host:6379 or set REDIS_URI (the in-memory store belongs to one worker process)");
            }
            Optional<GroupView> view;
            try (RedisCoordinationStore store = options.revisionStore()) {
                view = store.group(parentId);
            }
            Output out = options.output();
            if (view.isEmpty()) {
                return options.failure("no follow-up group for parent " + parentId + " in Redis: it "
                        + "asked for no follow-ups, its handler has not succeeded yet, or its group expired "
                        + FollowUpStore.DEFAULT_RETENTION.toDays() + " days (the default retention) after its last "
                        + "change");
            }
            GroupReport report = new GroupReport(view.get());
            out.table(GroupReport.COLUMNS, report.rows());
            out.note(report.summary());
            return ExitCodes.OK;
        }
    }
}
