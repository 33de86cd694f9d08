package dev.hopper.ops.revision;

import dev.hopper.ops.cli.ExitCodes;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.coordination.RedisCoordinationStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hopper revision get|bump KEY}: reads or bumps an entity key's revision in the shared Redis store. Needs
 * {@code --redis} (or {@code REDIS_URI}): an in-memory store would be gone when the command exits.
 */
@Command(mixinStandardHelpOptions = true, name = "revision",
        description = "Read or bump an entity key's revision in Redis (--redis or $REDIS_URI). Tasks published "
                + "against an older revision are superseded.",
        footerHeading = "%nExample:%n", footer = "  hopper --redis redis://localhost:6379 revision bump repo:42",
        subcommands = {RevisionCommand.Get.class, RevisionCommand.Bump.class})
public final class RevisionCommand implements CommandGroup {

    static Map<String, Object> row(String key, long revision) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key);
        m.put("revision", revision);
        return m;
    }

    @Command(mixinStandardHelpOptions = true, name = "get", description = "Print the key's current revision "
            + "(0 for a key never bumped).",
            footerHeading = "%nExample:%n", footer = "  hopper --redis redis://localhost:6379 revision get repo:42")
    static final class Get extends OnKey {
        @Override
        long revision(RedisCoordinationStore store, String key) {
            return store.currentRevision(key);
        }

        @Override
        String line(String key, long revision) {
            return key + " is at revision " + revision;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "bump", description = "Increment the key's revision and print "
            + "the new one: queued tasks of older revisions become superseded.",
            footerHeading = "%nExample:%n", footer = "  hopper --redis redis://localhost:6379 revision bump repo:42")
    static final class Bump extends OnKey {
        @Override
        long revision(RedisCoordinationStore store, String key) {
            return store.bumpRevision(key);
        }

        @Override
        String line(String key, long revision) {
            return key + " bumped to revision " + revision;
        }
    }

    /** A verb on one key's revision: opens the store, runs, prints the text or the JSON row. */
    abstract static class OnKey implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "KEY", description = "The entity key, e.g. repo:42.")
        String key;

        /** Reads or changes the key's revision; returns the revision to print. */
        abstract long revision(RedisCoordinationStore store, String key);

        /** The line printed without --json. */
        abstract String line(String key, long revision);

        @Override
        public Integer call() {
            long revision;
            try (RedisCoordinationStore store = GlobalOptions.of(spec).revisionStore()) {
                revision = revision(store, key);
            }
            GlobalOptions.of(spec).output().result(line(key, revision), row(key, revision));
            return ExitCodes.OK;
        }
    }
}
