package dev.hopper.ops.cli;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.UriRedactor;
import dev.hopper.topology.ConfigException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code hopper} command: global options shared by every subcommand and exit codes 0 (ok), 1 (failure) and
 * 2 (usage: unknown flag, missing or malformed value). Every error is one line on stderr starting with
 * {@code hopper:}; {@code -v} adds the stack trace. Tests call {@link #execute(PrintWriter, PrintWriter, String...)};
 * {@link #main} only adds {@code System.exit}. Not thread-safe: one instance per invocation.
 *
 * <p>The subcommands are the {@link CommandGroup}s on the class path. Subcommands read the global options through
 * {@link GlobalOptions#of}, never through fields of this class.
 */
@Command(name = "hopper", mixinStandardHelpOptions = true, version = "hopper 0.1.0",
        description = "A RabbitMQ task pipeline: workers, retries, dead letters and replay.",
        footerHeading = "%nExample:%n",
        footer = "  hopper --uri amqp://ops@rabbit.internal:5672/ dlq list --queue uploads --reason exhausted")
public final class HopperCommand {

    @Option(names = "--uri", scope = ScopeType.INHERIT, paramLabel = "URI",
            converter = Converters.BrokerUriConverter.class,
            defaultValue = "${env:RABBITMQ_URI:-amqp://guest:guest@localhost:5672/}",
            description = "RabbitMQ URI (default: $RABBITMQ_URI, else amqp://guest:***@localhost:5672/). For a "
                    + "cluster, comma-separated URIs of its nodes (amqp://u:p@h1:5672/,amqp://u:p@h2:5672/) or one "
                    + "URI with a host list (amqp://u:p@h1:5672,h2:5672/); connections pick a node at random and "
                    + "recover onto another when theirs is lost.")
    private URI uri = BrokerConfig.DEFAULT_URI;

    // Kept as text and converted where Redis is used: a bad REDIS_URI must not break commands that never touch it.
    @Option(names = "--redis", scope = ScopeType.INHERIT, paramLabel = "URI", defaultValue = "${env:REDIS_URI}",
            description = "Redis URI for revisions and locks (default: $REDIS_URI, else in-memory).")
    private @Nullable String redis;

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "hopper.yml with queues, tiers and retry policies.")
    private @Nullable Path config;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print JSON lines instead of text.")
    private boolean json;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT, description = "Show stack traces on errors.")
    private boolean verbose;

    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** The whole command tree (every {@link CommandGroup} on the class path, then {@code help}), not yet run. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new HopperCommand());
        for (CommandGroup group : ServiceLoader.load(CommandGroup.class, HopperCommand.class.getClassLoader())) {
            cl.addSubcommand(group);
        }
        cl.addSubcommand(new CommandLine.HelpCommand());
        return cl;
    }

    /**
     * Runs the command with these streams and returns the exit code (0 ok, 1 failure, 2 usage). An error is one
     * line on {@code err}; under {@code --json} it is also one JSON object on {@code out}
     * ({@code {"error": "...", "exit_code": 1}}), so that a script reading stdout sees only JSON lines.
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        HopperCommand root = cl.getCommand();
        cl.setOut(out);
        cl.setErr(err);
        // --json may be what failed to parse, or come after the bad option: look at the words too.
        boolean jsonWord = java.util.Arrays.asList(args).contains("--json");
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            // A bad hopper.yml is a usage error like a bad flag: nothing was done, the input must change.
            int code = ex instanceof ConfigException ? ExitCodes.USAGE : ExitCodes.FAILURE;
            report(commandLine, oneLine(ex), code, root.json || jsonWord, root.verbose ? ex : null);
            return code;
        });
        cl.setParameterExceptionHandler((ex, ignored) -> {
            CommandLine c = ex.getCommandLine();
            report(c, oneLine(ex) + " (see '" + c.getCommandSpec().qualifiedName() + " --help')", ExitCodes.USAGE,
                    root.json || jsonWord, root.verbose ? ex : null);
            return ExitCodes.USAGE;
        });
        return cl.execute(args);
    }

    static void report(CommandLine c, String message, int code, boolean json, @Nullable Throwable trace) {
        c.getErr().println("hopper: " + message);
        if (trace != null) {
            trace.printStackTrace(c.getErr());
        }
        c.getErr().flush();
        if (json) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("error", message);
            fields.put("exit_code", code);
            new JsonLinesOutput(c.getOut()).record(fields);
        }
    }

    /** The exception's message on one line (the class name when it has none), passwords in URIs masked. */
    static String oneLine(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            m = ex.getClass().getSimpleName();
        }
        return UriRedactor.redactText(m.replaceAll("\\s*\\R\\s*", " ").trim());
    }

    /** The global options as given on this command line; subcommands use {@link GlobalOptions#of}. */
    GlobalOptions options(CommandSpec spec) {
        return new GlobalOptions(spec, uri, redis, config, json, verbose);
    }
}
