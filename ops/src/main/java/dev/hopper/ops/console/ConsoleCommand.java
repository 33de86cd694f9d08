package dev.hopper.ops.console;

import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.ops.cli.Operator;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hopper console}: serves the dead-letter console until Ctrl-C or SIGTERM. Prints the address and the
 * token (the link with {@code ?token=} logs a browser in). Parsing only; the work is {@link Console}'s.
 */
@Command(mixinStandardHelpOptions = true, name = "console",
        description = "Dead letters in a browser: queues, dead letters with filters, groups, one letter's headers "
                + "and payload, replay and purge with a dry-run preview. Binds to 127.0.0.1; changes need the "
                + "token it prints.",
        footerHeading = "%nExamples:%n",
        footer = {"  hopper --config hopper.yml console", "  hopper console --queue uploads --queue emails --port 8800"})
public final class ConsoleCommand implements Callable<Integer>, CommandGroup {
    @Spec
    CommandSpec spec;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8700", description = "Port (default 8700).")
    int port;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default 127.0.0.1). Anything else exposes dead letters to "
                    + "the network: reads need no token.")
    String bind = "127.0.0.1";

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:HOPPER_CONSOLE_TOKEN}",
            description = "The token changes need (default: $HOPPER_CONSOLE_TOKEN, else a random one, printed).")
    @Nullable String token;

    @Option(names = "--queue", paramLabel = "QUEUE",
            description = "A work queue to show (repeatable; default: every queue of --config).")
    List<String> queues = new ArrayList<>();

    @Option(names = "--refresh", paramLabel = "DURATION", defaultValue = "30s",
            converter = dev.hopper.ops.cli.Converters.DurationConverter.class,
            description = "How often each dead queue is re-read (default 30s).")
    Duration refresh = Duration.ofSeconds(30);

    @Option(names = "--index-limit", paramLabel = "N", defaultValue = "" + ConsoleSettings.DEFAULT_INDEX_LIMIT,
            description = "The most dead letters indexed per queue (default and most 65535, about 500 bytes each).")
    int indexLimit;

    @Override
    public Integer call() throws InterruptedException {
        GlobalOptions global = GlobalOptions.of(spec);
        if (port < 0 || port > 65_535) {
            throw new ParameterException(spec.commandLine(), "--port must be 0..65535, was " + port);
        }
        if (indexLimit < 1 || indexLimit > ConsoleSettings.DEFAULT_INDEX_LIMIT) {
            throw new ParameterException(spec.commandLine(), "--index-limit must be 1.."
                    + ConsoleSettings.DEFAULT_INDEX_LIMIT + ", was " + indexLimit);
        }
        if (refresh.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ParameterException(spec.commandLine(), "--refresh must be at least 1s");
        }
        String t = token == null || token.isBlank() ? Console.newToken() : token;
        if (t.length() < 8) {
            throw new ParameterException(spec.commandLine(), "--token must have at least 8 characters");
        }
        HopperConfig config = config(global);
        ConsoleSettings settings = ConsoleSettings.builder(
                        BrokerConfig.builder(global.uri()).connectionName("hopper-console").build(), config, t)
                .address(new InetSocketAddress(bind, port)).refreshEvery(refresh).indexLimit(indexLimit)
                .operator(Operator.name() + "/console").build();
        Console console = Console.start(settings);
        PrintWriter err = spec.commandLine().getErr();
        String host = console.address().getAddress().isAnyLocalAddress() ? "127.0.0.1"
                : console.address().getHostString();
        String base = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + console.address().getPort()
                + "/";
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            console.close();
            stopped.countDown();
        }, "hopper-console-shutdown"));
        if (global.json()) {
            Map<String, Object> started = new LinkedHashMap<>();
            started.put("event", "serving");
            started.put("queues", List.copyOf(config.queues().keySet()));
            started.put("broker", settings.broker().redactedUri());
            started.put("url", base);
            started.put("token", t);
            global.output().record(started);
        } else {
            spec.commandLine().getOut().println("hopper console: serving "
                    + String.join(", ", config.queues().keySet()) + " of " + settings.broker().redactedUri() + " on "
                    + base);
            spec.commandLine().getOut().println("hopper console: open " + base + "?token=" + t);
            spec.commandLine().getOut().println("hopper console: token " + t + " (changes need it; Ctrl-C stops)");
        }
        spec.commandLine().getOut().flush();
        err.flush();
        stopped.await();
        return 0;
    }

    private HopperConfig config(GlobalOptions global) {
        for (String q : queues) {
            try {
                QueueNames.checkWorkQueue(q);
            } catch (RuntimeException e) {
                throw new ParameterException(spec.commandLine(), "--queue: " + e.getMessage());
            }
        }
        if (global.config() == null) {
            if (queues.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "pass --config hopper.yml or --queue QUEUE");
            }
            return HopperConfig.of(queues.stream().distinct().map(q -> QueueSpec.builder(q).build()).toList());
        }
        HopperConfig loaded = HopperConfig.load(global.config());
        if (queues.isEmpty()) {
            return loaded;
        }
        return HopperConfig.of(queues.stream().distinct().map(loaded::requireQueue).toList());
    }
}
