package dev.hopper.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.ops.cli.HopperCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Option parsing of {@code hopper bench}: no broker needed, bad values exit 2 before anything connects. */
class BenchCommandTest {

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of("prefetch below concurrency", List.of("--concurrency", "8", "--prefetch", "4"), "--prefetch"),
                Arguments.of("unknown store", List.of("--store", "postgres"), "none, memory, redis"),
                Arguments.of("unknown handler", List.of("--handler", "cpu"), "noop, raw, sleep"),
                Arguments.of("classic queue", List.of("--queue-type", "classic"), "quorum"),
                Arguments.of("zero tasks", List.of("--tasks", "0"), "--tasks"),
                Arguments.of("tasks and duration", List.of("--tasks", "10", "--duration", "5s"), "not both"),
                Arguments.of("bad duration", List.of("--duration", "soon"), "not a duration"),
                Arguments.of("keyed without store", List.of("--keyed"), "--store memory"),
                Arguments.of("memory store across JVMs", List.of("--keyed", "--store", "memory", "--workers", "2"),
                        "--store redis"),
                Arguments.of("negative workers", List.of("--workers", "-1"), "--workers"),
                Arguments.of("tiny payload", List.of("--payload-bytes", "8"), "--payload-bytes"),
                Arguments.of("negative rate", List.of("--rate", "-5"), "--rate"),
                Arguments.of("negative warm-up", List.of("--warmup", "-1"), "--warmup"),
                Arguments.of("sleep without sleep handler", List.of("--sleep-ms", "5"), "--handler sleep"),
                Arguments.of("publish only with worker JVMs", List.of("--publish-only", "--workers", "1"),
                        "--publish-only"),
                Arguments.of("publish only with a warm-up", List.of("--publish-only", "--warmup", "10"),
                        "--publish-only"),
                Arguments.of("jvm args in-process", List.of("--worker-jvm-arg", "-Xmx1g"), "--workers"),
                Arguments.of("not a number", List.of("--publishers", "many"), "--publishers"),
                Arguments.of("zero publishers", List.of("--publishers", "0"), "--publishers"),
                Arguments.of("unknown option", List.of("--turbo"), "--turbo"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badOptions")
    void badValuesAreUsageErrors(String name, List<String> options, String mentioned) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] args = Stream.concat(Stream.of("--uri", "amqp://guest:guest@127.0.0.1:1/", "bench"),
                options.stream()).toArray(String[]::new);

        int code = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), args);

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains(mentioned);
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void optionsBecomeSettings() {
        BenchSettings s = parse("--uri", "amqp://u:p@broker:5673/v", "bench", "--tasks", "500", "--publishers", "3",
                "--rate", "250", "--concurrency", "8", "--prefetch", "64", "--workers", "2", "--payload-bytes", "2048",
                "--keyed", "--keys", "50", "--store", "redis", "--handler", "sleep", "--sleep-ms", "3",
                "--queue-type", "quorum", "--worker-jvm-arg", "-Xmx256m", "--warmup", "1000");

        assertThat(s.brokerUri()).isEqualTo(URI.create("amqp://u:p@broker:5673/v"));
        assertThat(s.tasks()).isEqualTo(500);
        assertThat(s.boundedByTasks()).isTrue();
        assertThat(s.publishers()).isEqualTo(3);
        assertThat(s.rate()).isEqualTo(250.0);
        assertThat(s.concurrency()).isEqualTo(8);
        assertThat(s.prefetch()).isEqualTo(64);
        assertThat(s.workers()).isEqualTo(2);
        assertThat(s.payloadBytes()).isEqualTo(2048);
        assertThat(s.keyed()).isTrue();
        assertThat(s.keys()).isEqualTo(50);
        assertThat(s.store()).isEqualTo(BenchSettings.Store.REDIS);
        assertThat(s.handler()).isEqualTo(BenchSettings.HandlerKind.SLEEP);
        assertThat(s.sleep()).isEqualTo(Duration.ofMillis(3));
        assertThat(s.workerJvmArgs()).containsExactly("-Xmx256m");
        assertThat(s.warmup()).isEqualTo(1000);
        assertThat(s.describe()).containsEntry("uri", "amqp://u:***@broker:5673/v").containsEntry("store", "redis")
                .containsEntry("handler", "sleep 3ms").containsEntry("workers", "2 JVMs");
    }

    @Test
    void defaultsAreTwentyThousandUnkeyedTasksInProcess() {
        BenchSettings s = parse("bench");

        assertThat(s.tasks()).isEqualTo(20_000);
        assertThat(s.publishers()).isEqualTo(1);
        assertThat(s.workers()).isZero();
        assertThat(s.payloadBytes()).isEqualTo(1024);
        assertThat(s.keyed()).isFalse();
        assertThat(s.store()).isEqualTo(BenchSettings.Store.NONE);
        assertThat(s.handler()).isEqualTo(BenchSettings.HandlerKind.NOOP);
        assertThat(s.rate()).isZero();
    }

    @Test
    void redisComesFromTheGlobalOption() {
        BenchSettings s = parse("--redis", "redis://cache:6390/2", "bench", "--keyed", "--store", "redis");

        assertThat(s.redisUri()).isEqualTo(URI.create("redis://cache:6390/2"));
        assertThat(s.describe()).containsEntry("redis", "redis://cache:6390/2");
    }

    @Test
    void durationReplacesTheTaskCount() {
        BenchSettings s = parse("bench", "--duration", "5m");

        assertThat(s.boundedByTasks()).isFalse();
        assertThat(s.tasks()).isZero();
        assertThat(s.duration()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.describe()).containsEntry("duration", "5m").doesNotContainKey("tasks");
    }

    @Test
    void rateLimiterPeriodsGiveTheExactRate() {
        for (double rate : new double[] {1, 37, 100, 2500, 12_345}) {
            var c = PublisherPool.rateLimiterConfig(rate);
            double achieved = c.getLimitForPeriod() * 1e9 / c.getLimitRefreshPeriod().toNanos();
            assertThat(achieved).as("rate %s", rate).isCloseTo(rate, org.assertj.core.data.Percentage.withPercentage(0.1));
            assertThat(c.getLimitRefreshPeriod()).isLessThanOrEqualTo(Duration.ofSeconds(1));
        }
    }

    private static BenchSettings parse(String... args) {
        CommandLine cl = HopperCommand.commandLine();
        CommandLine.ParseResult r = cl.parseArgs(args);
        BenchCommand bench = (BenchCommand) r.subcommand().commandSpec().userObject();
        return bench.settings();
    }
}
