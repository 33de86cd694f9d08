package dev.hopper.ops.cli;

import static java.util.Objects.requireNonNull;

import ch.qos.logback.classic.Level;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.CoordinationSpec;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code hopper} command's global options ({@code --uri}, {@code --redis}, {@code --config}, {@code --json},
 * {@code -v}) as one subcommand sees them, wherever they were written on the command line. The only way
 * subcommands read them. Immutable; usage errors are reported against the subcommand, so they name it.
 */
public final class GlobalOptions {
    private final CommandSpec spec;
    private final URI uri;
    private final @Nullable String redis;
    private final @Nullable Path config;
    private final boolean json;
    private final boolean verbose;

    GlobalOptions(CommandSpec spec, URI uri, @Nullable String redis, @Nullable Path config, boolean json,
            boolean verbose) {
        this.spec = requireNonNull(spec, "spec");
        this.uri = requireNonNull(uri, "uri");
        this.redis = redis;
        this.config = config;
        this.json = json;
        this.verbose = verbose;
    }

    /** The global options of the {@code hopper} command line that {@code spec} (a subcommand's spec) belongs to. */
    public static GlobalOptions of(CommandSpec spec) {
        Object root = spec.root().userObject();
        if (!(root instanceof HopperCommand hopper)) {
            throw new IllegalStateException(spec.qualifiedName() + " is not run under the hopper command");
        }
        return hopper.options(spec);
    }

    /** The broker URI ({@code --uri}, default {@code $RABBITMQ_URI}, else {@link BrokerConfig#DEFAULT_URI}). */
    public URI uri() {
        return uri;
    }

    /** The {@code --config} file, null when none was given. */
    public @Nullable Path config() {
        return config;
    }

    /** Whether {@code --json} asks for JSON lines. */
    public boolean json() {
        return json;
    }

    /** Whether {@code -v} asks for stack traces and library logging. */
    public boolean verbose() {
        return verbose;
    }

    /**
     * The Redis URI of {@code --redis} / {@code REDIS_URI}, or null when neither is set (in-memory store). Converted
     * here, where it is used: a bad {@code REDIS_URI} must not break commands that never touch Redis.
     *
     * @throws ParameterException (exit 2) when it is not a {@code redis://} URI
     */
    public @Nullable URI redis() {
        if (redis == null || redis.isBlank()) {
            return null;
        }
        try {
            return new Converters.RedisUriConverter().convert(redis);
        } catch (TypeConversionException e) {
            throw new ParameterException(spec.commandLine(), "invalid --redis (or REDIS_URI): " + e.getMessage());
        }
    }

    /**
     * Opens the Redis store of {@code --redis} for revisions, with the namespace of {@code --config} when one is
     * given. The caller closes it.
     *
     * @throws ParameterException (exit 2) when no Redis URI is set: an in-memory store would forget a revision as
     *     soon as the command exits
     */
    public RedisCoordinationStore revisionStore() {
        URI uri = redis();
        if (uri == null) {
            throw new ParameterException(spec.commandLine(), "revisions live in Redis: pass --redis "
                    + "redis://host:6379 or set REDIS_URI (an in-memory store would forget the revision when this "
                    + "command exits)");
        }
        CoordinationSpec coordination = config == null ? CoordinationSpec.DEFAULT
                : HopperConfig.load(config).coordination();
        if (!verbose) {
            // This one-shot command reports a store failure itself, in one line; the store's own warning about the
            // same failure would be a second one.
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(RedisCoordinationStore.class))
                    .setLevel(Level.ERROR);
        }
        return new RedisCoordinationStore(RedisStoreConfig.builder(uri).coordination(coordination).build());
    }

    /** The broker settings for a connection named {@code connectionName} (shown in the management UI). */
    public BrokerConfig brokerConfig(String connectionName) {
        return BrokerConfig.builder(uri).connectionName(connectionName).build();
    }

    /**
     * The configuration to work on: {@code --config} (narrowed to {@code queue} when given), or, without a file,
     * one queue with default settings; queues that set no quorum group size get the number of nodes of a
     * multi-node {@code --uri} (the cluster's size, as far as this command knows it).
     *
     * @throws ParameterException (exit 2) when neither a config file nor a queue is given
     */
    public HopperConfig configFor(@Nullable String queue) {
        return configAsWritten(queue).withDefaultQuorumGroupSize(brokerConfig("hopper").nodeUris().size());
    }

    private HopperConfig configAsWritten(@Nullable String queue) {
        if (config == null) {
            if (queue == null) {
                throw new ParameterException(spec.commandLine(), "pass --config hopper.yml or --queue QUEUE");
            }
            return HopperConfig.of(List.of(QueueSpec.builder(queue).build()));
        }
        HopperConfig loaded = HopperConfig.load(config);
        if (queue == null) {
            return loaded;
        }
        return HopperConfig.of(List.of(loaded.requireQueue(queue)));
    }

    /**
     * Reports that the command failed after doing its work (some queues missing, some letters not replayed): one
     * {@code hopper: message} line on stderr and, under {@code --json}, an {@code error} object on stdout, as for
     * any other error.
     *
     * @return {@link ExitCodes#FAILURE}, for the command to return
     */
    public int failure(String message) {
        HopperCommand.report(spec.commandLine(), message, ExitCodes.FAILURE, json, null);
        return ExitCodes.FAILURE;
    }

    /** Text or JSON lines on the subcommand's standard output, as {@code --json} says. */
    public Output output() {
        PrintWriter out = spec.commandLine().getOut();
        return json ? new JsonLinesOutput(out) : new TextOutput(out);
    }
}
