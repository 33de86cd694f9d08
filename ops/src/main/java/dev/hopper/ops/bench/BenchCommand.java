package dev.hopper.ops.bench;

import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.ProgressLine;
import dev.hopper.ops.cli.CommandGroup;
import dev.hopper.topology.DurationText;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hopper bench}: publishes tasks with confirms and runs them through a worker on the configured broker,
 * then prints publish and completion rates, end-to-end latency percentiles, handler time and (keyed runs) the lock
 * and revision check's own percentiles, CPU time and heap. Declares and deletes its own queue. Exit 0 when every
 * task completed once, 1 when the run failed or was not clean, 2 on bad options.
 */
@Command(name = "bench", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"End-to-end throughput and latency of Hopper on the configured broker: confirmed publish, "
                + "worker, lock and revision check, handler, late ack.",
                "Declares its own queue hopper-bench-<id> (quorum) and deletes it at the end."},
        footerHeading = "%nExamples:%n",
        footer = {"  hopper bench --tasks 20000 --json",
                "  hopper bench --keyed --keys 1000 --store redis --concurrency 8 --prefetch 64",
                "  hopper bench --duration 60s --rate 2000 --workers 2",
                "  hopper bench --keyed --store redis --rate 1500 --warmup 15000 --tasks 30000",
                "    (latency at half of a 3000/s maximum; ops/bench/latency.sh measures both)"})
public final class BenchCommand implements Callable<Integer>, CommandGroup {

    @Spec
    CommandSpec spec;

    @Option(names = "--tasks", paramLabel = "N", description = "Tasks to publish (default 20000 unless --duration).")
    @Nullable Long tasks;

    @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Publish for this long instead of a task count, e.g. 60s, 5m.")
    @Nullable Duration duration;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "0",
            description = "Tasks to publish and complete before measuring (JIT, connections); default 0.")
    long warmup;

    @Option(names = "--publishers", paramLabel = "P", defaultValue = "1",
            description = "Publisher threads, each with its own connection (default ${DEFAULT-VALUE}).")
    int publishers;

    @Option(names = "--rate", paramLabel = "PER_SECOND", defaultValue = "0",
            description = "Total publish rate limit in tasks/s; 0 = as fast as confirms allow (default).")
    double rate;

    @Option(names = "--concurrency", paramLabel = "C", defaultValue = "4",
            description = "Handler threads per worker (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--prefetch", paramLabel = "F", defaultValue = "16",
            description = "Unacked deliveries per worker (basic.qos, default ${DEFAULT-VALUE}).")
    int prefetch;

    @Option(names = "--workers", paramLabel = "K", defaultValue = "0",
            description = "0: one worker in this JVM (default); K >= 1: K worker JVMs.")
    int workers;

    @Option(names = "--payload-bytes", paramLabel = "BYTES", defaultValue = "1024",
            description = "Approximate JSON body size (default ${DEFAULT-VALUE}).")
    int payloadBytes;

    @Option(names = "--keyed", description = "Give tasks keys: each takes the lock and revision check.")
    boolean keyed;

    @Option(names = "--keys", paramLabel = "N", defaultValue = "1000",
            description = "Distinct keys keyed tasks cycle through (default ${DEFAULT-VALUE}).")
    int keys;

    @Option(names = "--store", paramLabel = "none|memory|redis", defaultValue = "none",
            converter = StoreConverter.class,
            description = "Coordination store: none (unkeyed tasks, default), memory (one process) or redis "
                    + "(the global --redis, default $REDIS_URI, else redis://127.0.0.1:6379).")
    BenchSettings.Store store = BenchSettings.Store.NONE;

    @Option(names = "--handler", paramLabel = "noop|raw|sleep", defaultValue = "noop",
            converter = HandlerConverter.class,
            description = "noop returns at once (default; typed, Jackson binds the payload); raw returns at once "
                    + "as a byte[] handler (the body is checked to be JSON, not bound); sleep waits --sleep-ms.")
    BenchSettings.HandlerKind handler = BenchSettings.HandlerKind.NOOP;

    @Option(names = "--sleep-ms", paramLabel = "MS", defaultValue = "0", description = "Sleep of --handler sleep.")
    long sleepMs;

    @Option(names = "--queue-type", paramLabel = "quorum", defaultValue = "quorum",
            converter = QueueTypeConverter.class,
            description = "Queue type; quorum is the only type Hopper supports.")
    String queueType = BenchSettings.QUEUE_TYPE;

    @Option(names = "--publish-only", description = "Publish and wait for the confirms without any worker (the "
            + "tasks are deleted with the queue): the publisher's confirmed rate, as PerfTest's with --consumers 0.")
    boolean publishOnly;

    @Option(names = "--worker-jvm-arg", paramLabel = "ARG",
            description = "Extra JVM option for worker JVMs (repeatable), e.g. "
                    + "-XX:StartFlightRecording=duration=60s,filename=worker.jfr")
    List<String> workerJvmArgs = new ArrayList<>();

    @Override
    public Integer call() {
        BenchSettings settings = settings();
        Benchmark benchmark = new Benchmark(settings);
        BenchReport report;
        try (ProgressLine progress = ProgressLine.onStderr(spec.commandLine().getErr())) {
            progress.polling(benchmark::progress);
            report = benchmark.run();
        }
        PrintWriter out = spec.commandLine().getOut();
        ReportWriter.forJson(GlobalOptions.of(spec).json()).write(report, out);
        if (!report.clean()) {
            return GlobalOptions.of(spec).failure("the benchmark was not clean: " + report.published()
                    + " published, " + report.completed() + " completed, " + report.publishFailures()
                    + " publish failures, other outcomes " + report.otherOutcomes());
        }
        return 0;
    }

    /** The options as settings. @throws ParameterException (exit 2) for values that cannot run */
    BenchSettings settings() {
        if (tasks != null && duration != null) {
            throw new ParameterException(spec.commandLine(), "give --tasks or --duration, not both");
        }
        try {
            BenchSettings.Builder b = BenchSettings.builder()
                    .brokerUri(GlobalOptions.of(spec).uri())
                    .redisUri(redisUri())
                    .publishers(publishers).rate(rate).concurrency(concurrency).prefetch(prefetch).workers(workers)
                    .payloadBytes(payloadBytes).keyed(keyed).keys(keys).store(store).handler(handler)
                    .sleep(Duration.ofMillis(sleepMs)).workerJvmArgs(workerJvmArgs).warmup(warmup)
                    .publishOnly(publishOnly);
            Duration d = duration;
            if (d != null) {
                b.duration(d);
            } else {
                b.tasks(tasks == null ? 20_000 : tasks);
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /** The global {@code --redis} (default {@code $REDIS_URI}), else the local default. */
    private URI redisUri() {
        URI redis = GlobalOptions.of(spec).redis();
        return redis != null ? redis : BenchSettings.DEFAULT_REDIS_URI;
    }

    /** {@code none|memory|redis}. */
    static final class StoreConverter implements ITypeConverter<BenchSettings.Store> {
        @Override
        public BenchSettings.Store convert(String value) {
            return parseEnum(BenchSettings.Store.class, value, "none, memory, redis");
        }
    }

    /** {@code noop|raw|sleep}. */
    static final class HandlerConverter implements ITypeConverter<BenchSettings.HandlerKind> {
        @Override
        public BenchSettings.HandlerKind convert(String value) {
            return parseEnum(BenchSettings.HandlerKind.class, value, "noop, raw, sleep");
        }
    }

    /** Only {@code quorum}: Hopper declares nothing else. */
    static final class QueueTypeConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!BenchSettings.QUEUE_TYPE.equals(value.trim().toLowerCase(Locale.ROOT))) {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not supported: quorum is "
                        + "the only queue type Hopper declares");
            }
            return BenchSettings.QUEUE_TYPE;
        }
    }

    /** {@code 500ms}, {@code 30s}, {@code 5m}, ... */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return DurationText.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String value, String expected) {
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not one of " + expected);
        }
    }
}
