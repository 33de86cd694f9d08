package dev.hopper.ops;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code hopper} command: global options shared by every subcommand, exit codes 0 (ok), 1 (failure) and
 * 2 (usage). Tests call {@link #execute(PrintWriter, PrintWriter, String...)}; {@link #main} only adds
 * {@code System.exit}.
 */
@Command(name = "hopper", mixinStandardHelpOptions = true, version = "hopper 0.1.0",
        description = "A RabbitMQ task pipeline: workers, retries, dead letters and replay.",
        subcommands = {TopologyCommand.class, dev.hopper.ops.worker.WorkerCommand.class,
                dev.hopper.ops.demo.DemoCommand.class, CommandLine.HelpCommand.class})
public final class HopperCommand {

    @Option(names = "--uri", scope = ScopeType.INHERIT, paramLabel = "URI",
            defaultValue = "${env:RABBITMQ_URI:-amqp://guest:guest@localhost:5672/}",
            description = "RabbitMQ URI (default: $RABBITMQ_URI, else amqp://guest:***@localhost:5672/).")
    URI uri = BrokerConfig.DEFAULT_URI;

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "hopper.yml with queues, tiers and retry policies.")
    Path config;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print JSON lines instead of text.")
    boolean json;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT, description = "Show stack traces on errors.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command with these streams and returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        HopperCommand root = new HopperCommand();
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("hopper: " + ex.getMessage());
            if (root.verbose) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args1) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("hopper: " + ex.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
            c.getErr().flush();
            return 2;
        });
        return cl.execute(args);
    }

    /** The configuration from {@code --config}, or one with just {@code queue} and defaults. */
    HopperConfig loadConfig() {
        if (config == null) {
            throw new dev.hopper.topology.ConfigException("", "no --config given; pass --config hopper.yml");
        }
        return HopperConfig.load(config);
    }

    BrokerConfig brokerConfig(String connectionName) {
        return BrokerConfig.builder(uri).connectionName(connectionName).build();
    }
}
