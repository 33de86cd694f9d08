package dev.hopper.ops;

import ch.qos.logback.classic.Level;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.topology.CoordinationSpec;
import dev.hopper.topology.HopperConfig;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
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
final class RevisionCommand {
    @ParentCommand
    HopperCommand root;

    /** Opens the Redis store of {@code --redis}, with the namespace of {@code --config} when one is given. */
    static RedisCoordinationStore store(HopperCommand root, CommandSpec spec) {
        URI redis = root.redisUri(spec);
        if (redis == null) {
            throw new ParameterException(spec.commandLine(), "revisions live in Redis: pass --redis "
                    + "redis://host:6379 or set REDIS_URI (an in-memory store would forget the revision when this "
                    + "command exits)");
        }
        CoordinationSpec coordination = root.config == null ? CoordinationSpec.DEFAULT
                : HopperConfig.load(root.config).coordination();
        if (!root.verbose) {
            // This one-shot command reports a store failure itself, in one line; the store's own warning about the
            // same failure would be a second one.
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(RedisCoordinationStore.class))
                    .setLevel(Level.ERROR);
        }
        return new RedisCoordinationStore(RedisStoreConfig.builder(redis).coordination(coordination).build());
    }

    static Map<String, Object> row(String key, long revision) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key);
        m.put("revision", revision);
        return m;
    }

    @Command(mixinStandardHelpOptions = true, name = "get", description = "Print the key's current revision "
            + "(0 for a key never bumped).",
            footerHeading = "%nExample:%n", footer = "  hopper --redis redis://localhost:6379 revision get repo:42")
    static final class Get implements Callable<Integer> {
        @ParentCommand
        RevisionCommand parent;
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "KEY", description = "The entity key, e.g. repo:42.")
        String key;

        @Override
        public Integer call() {
            long revision;
            try (RedisCoordinationStore store = store(parent.root, spec)) {
                revision = store.currentRevision(key);
            }
            parent.root.output(spec).result(key + " is at revision " + revision, row(key, revision));
            return ExitCodes.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "bump", description = "Increment the key's revision and print "
            + "the new one: queued tasks of older revisions become superseded.",
            footerHeading = "%nExample:%n", footer = "  hopper --redis redis://localhost:6379 revision bump repo:42")
    static final class Bump implements Callable<Integer> {
        @ParentCommand
        RevisionCommand parent;
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "KEY", description = "The entity key, e.g. repo:42.")
        String key;

        @Override
        public Integer call() {
            long revision;
            try (RedisCoordinationStore store = store(parent.root, spec)) {
                revision = store.bumpRevision(key);
            }
            parent.root.output(spec).result(key + " bumped to revision " + revision, row(key, revision));
            return ExitCodes.OK;
        }
    }
}
