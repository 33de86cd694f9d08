package dev.hopper.ops;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;

/**
 * The {@code hopper} command: global options shared by every subcommand and exit codes 0 (ok), 1 (failure) and
 * 2 (usage: unknown flag, missing or malformed value). Every error is one line on stderr starting with
 * {@code hopper:}; {@code -v} adds the stack trace. Tests call {@link #execute(PrintWriter, PrintWriter, String...)};
 * {@link #main} only adds {@code System.exit}. Not thread-safe: one instance per invocation.
 */
@Command(name = "hopper", mixinStandardHelpOptions = true, version = "hopper 0.1.0",
        description = "A RabbitMQ task pipeline: workers, retries, dead letters and replay.",
        footerHeading = "%nExample:%n",
        footer = "  hopper --uri amqp://ops@rabbit.internal:5672/ dlq list --queue uploads --reason exhausted",
        subcommands = {TopologyCommand.class, PublishCommand.class, DlqCommand.class, StatsCommand.class,
                RevisionCommand.class, dev.hopper.ops.worker.WorkerCommand.class,
                dev.hopper.ops.demo.DemoCommand.class, dev.hopper.ops.bench.BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class HopperCommand {

    @Option(names = "--uri", scope = ScopeType.INHERIT, paramLabel = "URI",
            converter = Converters.BrokerUriConverter.class,
            defaultValue = "${env:RABBITMQ_URI:-amqp://guest:guest@localhost:5672/}",
            description = "RabbitMQ URI (default: $RABBITMQ_URI, else amqp://guest:***@localhost:5672/). For a "
                    + "cluster, comma-separated URIs of its nodes (amqp://u:p@h1:5672/,amqp://u:p@h2:5672/) or one "
                    + "URI with a host list (amqp://u:p@h1:5672,h2:5672/); connections pick a node at random and "
                    + "recover onto another when theirs is lost.")
    URI uri = BrokerConfig.DEFAULT_URI;

    // Kept as text and converted where Redis is used: a bad REDIS_URI must not break commands that never touch it.
    @Option(names = "--redis", scope = ScopeType.INHERIT, paramLabel = "URI", defaultValue = "${env:REDIS_URI}",
            description = "Redis URI for revisions and locks (default: $REDIS_URI, else in-memory).")
    @Nullable String redis;

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "hopper.yml with queues, tiers and retry policies.")
    @Nullable Path config;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print JSON lines instead of text.")
    boolean json;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT, description = "Show stack traces on errors.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command with these streams and returns the exit code (0 ok, 1 failure, 2 usage). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        HopperCommand root = new HopperCommand();
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("hopper: " + oneLine(ex));
            if (root.verbose) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return ExitCodes.FAILURE;
        });
        cl.setParameterExceptionHandler((ex, ignored) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("hopper: " + oneLine(ex) + " (see '" + c.getCommandSpec().qualifiedName()
                    + " --help')");
            if (root.verbose) {
                ex.printStackTrace(c.getErr());
            }
            c.getErr().flush();
            return ExitCodes.USAGE;
        });
        return cl.execute(args);
    }

    /** The exception's message on one line (the class name when it has none), passwords in URIs masked. */
    static String oneLine(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            m = ex.getClass().getSimpleName();
        }
        return Converters.maskPassword(m.replaceAll("\\s*\\R\\s*", " ").trim());
    }

    /**
     * The configuration to work on: {@code --config} (narrowed to {@code queue} when given), or, without a file,
     * one queue with default settings; queues that set no quorum group size get the number of nodes of a
     * multi-node {@code --uri}.
     *
     * @throws ParameterException (exit 2) when neither a config file nor a queue is given
     */
    HopperConfig configFor(CommandSpec spec, @Nullable String queue) {
        return configAsWritten(spec, queue).withDefaultQuorumGroupSize(brokerConfig("hopper").nodeUris().size());
    }

    private HopperConfig configAsWritten(CommandSpec spec, @Nullable String queue) {
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
     * The Redis URI of {@code --redis} / {@code REDIS_URI}, or null when neither is set.
     *
     * @throws ParameterException (exit 2) when it is not a {@code redis://} URI
     */
    @Nullable URI redisUri(CommandSpec spec) {
        if (redis == null || redis.isBlank()) {
            return null;
        }
        try {
            return new Converters.RedisUriConverter().convert(redis);
        } catch (CommandLine.TypeConversionException e) {
            throw new ParameterException(spec.commandLine(), "invalid --redis (or REDIS_URI): " + e.getMessage());
        }
    }

    BrokerConfig brokerConfig(String connectionName) {
        return BrokerConfig.builder(uri).connectionName(connectionName).build();
    }

    /** Text or JSON lines on the command's standard output, as {@code --json} says. */
    Output output(CommandSpec spec) {
        PrintWriter out = spec.commandLine().getOut();
        return json ? new JsonLinesOutput(out) : new TextOutput(out);
    }
}
