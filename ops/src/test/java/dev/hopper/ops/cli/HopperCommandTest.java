package dev.hopper.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** Parsing and exit codes of the command, without a broker (picocli execute with captured out and err). */
class HopperCommandTest {
    /** Nothing listens here: connecting fails at once. */
    static final String DEAD_BROKER = "amqp://ops:s3cret@127.0.0.1:1/";

    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\\R"));
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    static Stream<Arguments> usageErrors() {
        return Stream.of(
                Arguments.of("unknown flag", new String[] {"dlq", "list", "--queue", "q", "--bogus"}, "--bogus"),
                Arguments.of("missing --queue", new String[] {"dlq", "list"}, "--queue"),
                Arguments.of("missing subcommand", new String[] {"dlq"}, "subcommand"),
                Arguments.of("malformed duration", new String[] {"dlq", "purge", "--queue", "q", "--older-than", "7"},
                        "not a duration like"),
                Arguments.of("unknown dead reason", new String[] {"dlq", "list", "--queue", "q", "--reason", "sad"},
                        "exhausted, permanent"),
                Arguments.of("zero limit", new String[] {"dlq", "list", "--queue", "q", "--limit", "0"}, "--limit"),
                Arguments.of("non-numeric limit", new String[] {"dlq", "list", "--queue", "q", "--limit", "x"}, "'x'"),
                Arguments.of("purge without --yes", new String[] {"dlq", "purge", "--queue", "q"}, "--yes"),
                Arguments.of("a dead queue as --queue", new String[] {"dlq", "list", "--queue", "q.dead"},
                        "looks like a retry or dead queue"),
                Arguments.of("zero rate", new String[] {"dlq", "replay", "--queue", "q", "--rate", "0"}, "--rate"),
                Arguments.of("bad --into", new String[] {"dlq", "import", "--queue", "q", "--file", "f", "--into", "x"},
                        "dead or work"),
                Arguments.of("stats without config or queue", new String[] {"stats"}, "--config"),
                Arguments.of("topology without config or queue", new String[] {"topology", "verify"}, "--config"),
                Arguments.of("non-amqp --uri", new String[] {"--uri", "http://u:pw@h/", "stats", "--queue", "q"},
                        "amqp://"),
                Arguments.of("--uri nodes with different users", new String[] {"--uri",
                        "amqp://u:pw@h1/,amqp://v:pw@h2/", "stats", "--queue", "q"}, "same user and password"),
                Arguments.of("--uri nodes with different schemes", new String[] {"--uri",
                        "amqp://u:pw@h1/,amqps://u:pw@h2/", "stats", "--queue", "q"}, "same scheme"),
                Arguments.of("--uri with an empty node", new String[] {"--uri", "amqp://u:pw@h1,,h2/", "stats",
                        "--queue", "q"}, "valid host"),
                Arguments.of("non-redis --redis", new String[] {"--redis", "http://u:pw@h", "revision", "get", "k"},
                        "redis://"),
                Arguments.of("group show without a parent id", new String[] {"group", "show"}, "PARENT_ID"),
                Arguments.of("malformed --payload", new String[] {"publish", "--queue", "q", "--type", "t",
                        "--payload", "{\"a\":"}, "not valid JSON"),
                Arguments.of("publish without a payload", new String[] {"publish", "--queue", "q", "--type", "t"},
                        "--payload"),
                Arguments.of("publish with payload and file", new String[] {"publish", "--queue", "q", "--type", "t",
                        "--payload", "1", "--file", "f"}, "mutually exclusive"),
                Arguments.of("publish without --type", new String[] {"publish", "--queue", "q", "--payload", "1"},
                        "--type"),
                Arguments.of("--revision without --key", new String[] {"publish", "--queue", "q", "--type", "t",
                        "--payload", "1", "--revision", "3"}, "--revision needs --key"),
                Arguments.of("--count 0", new String[] {"publish", "--queue", "q", "--type", "t", "--payload", "1",
                        "--count", "0"}, "--count"),
                Arguments.of("publish a missing file", new String[] {"publish", "--queue", "q", "--type", "t",
                        "--file", "/nonexistent/tasks.jsonl"}, "does not exist"),
                Arguments.of("--resume with --queue", new String[] {"publish", "--resume", "left.jsonl", "--queue",
                        "q"}, "--resume takes queue, type"),
                Arguments.of("--resume with --file", new String[] {"publish", "--resume", "a", "--file", "b"},
                        "mutually exclusive"),
                Arguments.of("--resume of a missing file", new String[] {"publish", "--resume",
                        "/nonexistent/left.jsonl"}, "does not exist"),
                Arguments.of("revision without --redis", new String[] {"revision", "bump", "k"}, "--redis"),
                Arguments.of("group show without --redis", new String[] {"group", "show", "p"}, "--redis"),
                Arguments.of("revision without a key", new String[] {"--redis", "redis://h:1", "revision", "get"},
                        "KEY"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("usageErrors")
    void usageErrorsExitTwoWithOneLine(String name, String[] args, String mentions) {
        Run r = run(args);
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.err()).startsWith("hopper: ").contains(mentions).doesNotContain("pw@").doesNotContain("\tat ");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void unreachableBrokerIsOneLineNamingTheRedactedUriExitOne() {
        Run r = run("--uri", DEAD_BROKER, "dlq", "list", "--queue", "q");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.err()).startsWith("hopper: cannot reach RabbitMQ at amqp://ops:***@127.0.0.1:1/")
                .doesNotContain("s3cret");
    }

    @Test
    void unreachableClusterNamesEveryNodeWithoutThePassword() {
        Run r = run("--uri", DEAD_BROKER + ",amqp://ops:s3cret@127.0.0.1:2/", "dlq", "list", "--queue", "q");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.err()).startsWith("hopper: cannot reach RabbitMQ at amqp://ops:***@127.0.0.1:1,127.0.0.1:2/")
                .doesNotContain("s3cret");
    }

    @Test
    void aBadRedisUriDoesNotBreakCommandsThatDoNotUseRedis() {
        Run r = run("--redis", "http://nonsense", "--uri", DEAD_BROKER, "dlq", "list", "--queue", "q");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("hopper: cannot reach RabbitMQ");
    }

    @Test
    void verboseAddsTheStackTrace() {
        Run r = run("--uri", DEAD_BROKER, "-v", "stats", "--queue", "q");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errLines().get(0)).startsWith("hopper: cannot reach RabbitMQ");
        assertThat(r.err()).contains("\tat ").contains("BrokerUnavailableException").doesNotContain("s3cret");
    }

    @Test
    void verboseAfterTheSubcommandWorksToo() {
        Run r = run("--uri", DEAD_BROKER, "dlq", "list", "--queue", "q", "-v");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("\tat ");
    }

    @Test
    void everyCommandHasHelpWithAnExample() {
        List<String> missing = new ArrayList<>();
        List<List<String>> paths = new ArrayList<>();
        collect(HopperCommand.commandLine(), new ArrayList<>(), paths);
        assertThat(paths).hasSizeGreaterThan(10);
        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            Run r = run(args.toArray(new String[0]));
            if (r.code() != 0 || !r.out().contains("Example") || !r.out().contains("hopper ")) {
                missing.add(String.join(" ", path) + " (exit " + r.code() + ")");
            }
        }
        assertThat(missing).as("commands whose --help lacks an example").isEmpty();
    }

    private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
        if (!cl.getCommandName().equals("help")) {
            out.add(List.copyOf(path));
        }
        cl.getSubcommands().forEach((name, sub) -> {
            if (name.equals("help")) {
                return;
            }
            List<String> p = new ArrayList<>(path);
            p.add(name);
            collect(sub, p, out);
        });
    }

    @Test
    void maskPasswordWorksOnTextThatIsNotAUri() {
        assertThat(dev.hopper.topology.UriRedactor.redactText("bad amqp://user:secret@ho st")).isEqualTo("bad amqp://user:***@ho st");
        assertThat(dev.hopper.topology.UriRedactor.redactText("redis://:secret@h:6379")).isEqualTo("redis://:***@h:6379");
    }

    @Test
    void aBadConfigIsAUsageErrorNamingEveryProblem(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path yml = java.nio.file.Files.writeString(dir.resolve("hopper.yml"),
                "queues: {uploads: {concurrency: 0, retry: {max_attempts: 3}}}\n");
        Run r = run("--uri", DEAD_BROKER, "--config", yml.toString(), "topology", "verify");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.err()).contains("2 problems").contains("queues.uploads.concurrency: must be >= 1")
                .contains("queues.uploads.retry.max_attempts: unknown setting");
    }
}
