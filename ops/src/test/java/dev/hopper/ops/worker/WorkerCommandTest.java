package dev.hopper.ops.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.HopperCommand;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

class WorkerCommandTest {

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static WorkerCommand parse(String... args) {
        CommandLine cl = HopperCommand.commandLine();
        CommandLine.ParseResult r = cl.parseArgs(args);
        return (WorkerCommand) r.subcommand().commandSpec().userObject();
    }

    @Test
    void withoutAHandlerOptionItIsAUsageErrorOnOneLine() {
        Run r = run("worker", "--queue", "q");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().lines().findFirst()).hasValueSatisfying(l -> assertThat(l)
                .startsWith("hopper: ").contains("--exec").contains("--webhook").contains("--builtin")
                .contains("--handler").contains("--discover"));
        assertThat(r.err().lines().count()).isLessThanOrEqualTo(2); // the error, then "Try ... --help"
    }

    @Test
    void twoHandlerOptionsAreAUsageError() {
        Run r = run("worker", "--queue", "q", "--exec", "true", "--builtin", "noop");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("mutually exclusive");
    }

    @Test
    void missingQueueUnknownBuiltinAndBadDurationsAreUsageErrors() {
        assertThat(run("worker", "--exec", "true").exit()).isEqualTo(2);
        Run builtin = run("worker", "--queue", "q", "--builtin", "explode");
        assertThat(builtin.exit()).isEqualTo(2);
        assertThat(builtin.err()).contains("no built-in handler 'explode'; choose one of noop, sleep, fail");
        Run duration = run("worker", "--queue", "q", "--builtin", "noop", "--handler-timeout", "soon");
        assertThat(duration.exit()).isEqualTo(2);
        assertThat(duration.err()).contains("\"soon\" is not a duration");
    }

    @Test
    void helpShowsAnExample() {
        Run r = run("worker", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("hopper worker --queue thumbs --exec");
    }

    @Test
    void withoutAConfigEachQueueGetsDefaultsAndTheFlagsOverrideThem() {
        WorkerCommand c = parse("worker", "--queue", "a", "--queue", "b", "--builtin", "noop", "--concurrency", "2",
                "--handler-timeout", "30s");
        HopperConfig config = c.resolveConfig(null);
        assertThat(config.queues()).containsOnlyKeys("a", "b");
        QueueSpec a = config.requireQueue("a");
        QueueSpec defaults = QueueSpec.builder("a").build();
        assertThat(a.concurrency()).isEqualTo(2);
        assertThat(a.prefetch()).isEqualTo(defaults.prefetch());
        assertThat(a.handlerTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(a.retry()).isEqualTo(RetryPolicy.DEFAULT);
        assertThat(a.tiers()).isEqualTo(defaults.tiers());
    }

    @Test
    void aHighConcurrencyRaisesThePrefetchUnlessOneIsGiven() {
        assertThat(parse("worker", "--queue", "a", "--builtin", "noop", "--concurrency", "40")
                .resolveConfig(null).requireQueue("a").prefetch()).isEqualTo(80);
        assertThat(parse("worker", "--queue", "a", "--builtin", "noop", "--concurrency", "40", "--prefetch", "50")
                .resolveConfig(null).requireQueue("a").prefetch()).isEqualTo(50);
    }

    @Test
    void aPrefetchBelowTheConcurrencyIsAUsageError() {
        WorkerCommand c = parse("worker", "--queue", "a", "--builtin", "noop", "--concurrency", "8", "--prefetch",
                "4");
        assertThatThrownBy(() -> c.resolveConfig(null)).isInstanceOf(ParameterException.class)
                .hasMessageContaining("prefetch (4) must be >= concurrency (8)");
    }

    @Test
    void aWebhookQueueWithoutConfigRetriesForADay() {
        QueueSpec q = parse("worker", "--queue", "hooks", "--webhook", "http://127.0.0.1:9/h")
                .resolveConfig(null).requireQueue("hooks");
        assertThat(q.retry()).isEqualTo(RetryPolicy.RETRY_FOR_A_DAY);
        assertThat(q.tiers()).containsExactly(DelayTier.parse("5m"), DelayTier.parse("1h"));
    }

    @Test
    void withAConfigTheQueuesComeFromItAndMustBeThere() {
        HopperConfig file = HopperConfig.parse("queues:\n  jobs:\n    retry: {delays: [1s], max-attempts: 2}\n"
                + "    concurrency: 3\n");
        QueueSpec jobs = parse("worker", "--queue", "jobs", "--webhook", "http://127.0.0.1:9/h", "--prefetch", "9")
                .resolveConfig(file).requireQueue("jobs");
        // A configured queue keeps its own policy, even for --webhook.
        assertThat(jobs.retry().delays()).containsExactly(Duration.ofSeconds(1));
        assertThat(jobs.concurrency()).isEqualTo(3);
        assertThat(jobs.prefetch()).isEqualTo(9);
        assertThatThrownBy(() -> parse("worker", "--queue", "other", "--builtin", "noop").resolveConfig(file))
                .hasMessageContaining("no queue named 'other'");
    }

    @Test
    void theGlobalOptionsAreSeenFromTheSubcommand() {
        CommandLine cl = HopperCommand.commandLine();
        CommandLine.ParseResult r = cl.parseArgs("--uri", "amqp://u:p@example.com:5673/", "worker", "--queue", "q",
                "--builtin", "noop", "--config", "x.yml", "--redis", "redis://127.0.0.1:6390");
        GlobalOptions g = GlobalOptions.of(r.subcommand().commandSpec());
        assertThat(g.uri()).isEqualTo(URI.create("amqp://u:p@example.com:5673/"));
        assertThat(g.config()).hasToString("x.yml");
        assertThat(g.redis()).isEqualTo(URI.create("redis://127.0.0.1:6390"));
        assertThat(List.of(g.json(), g.verbose())).containsOnly(false);
    }

    @Test
    void classpathTakesSeveralEntriesAndMissingOnesAreUsageErrors() {
        String sep = System.getProperty("path.separator");
        WorkerCommand c = parse("worker", "--queue", "a", "--discover", "--classpath", "one.jar" + sep + "classes",
                "--classpath", "two.jar");
        assertThat(c.classpath).extracting(Object::toString).containsExactly("one.jar", "classes", "two.jar");
        Run r = run("worker", "--queue", "a", "--discover", "--classpath", "no/such.jar");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--classpath entry no/such.jar does not exist");
    }

    @Test
    void statusLineCountsOutcomes() {
        StatusLine s = new StatusLine();
        s.onSettled(new dev.hopper.consumer.WorkerListener.Settled("q", "t", dev.hopper.consumer.Outcome.SUCCESS,
                null, null, 1));
        s.onSettled(new dev.hopper.consumer.WorkerListener.Settled("q", "t", dev.hopper.consumer.Outcome.RETRIED,
                null, null, 1));
        s.onSettled(new dev.hopper.consumer.WorkerListener.Settled("q", "t", dev.hopper.consumer.Outcome.DEAD,
                null, null, 2));
        s.onSettled(new dev.hopper.consumer.WorkerListener.Settled("q", "t", dev.hopper.consumer.Outcome.SUPERSEDED,
                null, null, 1));
        assertThat(s.render(3)).isEqualTo("completed=1 retried=1 dead=1 superseded=1 in-flight=3");
        assertThat(s.fields(3)).containsEntry("superseded", 1L).containsEntry("in_flight", 3);
    }

    @Test
    void anExecCommandThatCannotRunIsAUsageErrorAtStart() {
        Run r = run("--uri", "amqp://u:p@127.0.0.1:1/", "worker", "--queue", "q", "--exec", "./missing.sh");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--exec: ./missing.sh does not exist").doesNotContain("cannot reach");
    }

    @Test
    void latencyBucketsDefaultToTheSloSetAndCanBeGiven() {
        assertThat(parse("worker", "--queue", "q", "--builtin", "noop").latencyBuckets)
                .isEqualTo(WorkerRegistry.DEFAULT_BUCKETS);
        assertThat(parse("worker", "--queue", "q", "--builtin", "noop", "--latency-buckets", "100ms,1s,10s")
                .latencyBuckets).containsExactly(java.time.Duration.ofMillis(100), java.time.Duration.ofSeconds(1),
                        java.time.Duration.ofSeconds(10));
    }
}
