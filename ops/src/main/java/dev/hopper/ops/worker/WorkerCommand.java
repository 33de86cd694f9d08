package dev.hopper.ops.worker;

import dev.hopper.coordination.FollowUpStore;

import dev.hopper.ops.cli.Converters;
import dev.hopper.ops.cli.GlobalOptions;
import dev.hopper.ops.cli.CommandGroup;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hopper.consumer.TaskHandler;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.consumer.Worker;
import dev.hopper.ops.http.ProbeServer;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.CoordinationSpec;
import dev.hopper.topology.DurationText;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code hopper worker}: declares the queues (idempotent, so a first run works on an empty broker), runs a
 * {@link Worker} over them with the handler chosen by exactly one of {@code --exec}, {@code --webhook},
 * {@code --builtin}, {@code --handler} or {@code --discover}, and blocks until the JVM is told to stop.
 *
 * <p>Queues come from {@code --config} (each {@code --queue} must be configured there) or, without one, get the
 * defaults of {@link QueueSpec.Builder} ("retry for a day" for {@code --webhook}); {@code --concurrency},
 * {@code --prefetch} and {@code --handler-timeout} override either.
 *
 * <p>Stopping: SIGTERM or Ctrl-C runs a shutdown hook that closes the worker gracefully (stop consuming, let
 * running tasks finish for up to {@code --drain-timeout}, hand back the rest), kills what {@code --exec} commands
 * still run (their whole process groups) and waits for them, and then ends the JVM: status 0 when every running
 * task finished within the drain, 1 when the drain timed out and tasks were cut (nothing is lost: their
 * deliveries are back in the queue, and no command of theirs is still running). When stderr is a terminal a status line
 * with the settlement counts is printed every 10 seconds.
 *
                + BrokerConfig.builder(global.uri()).build().redactedUri() + " with " + handlerText + " and "
                + storeText + (probe == null ? "" : "; metrics on http://" + probe.address().getHostString() + ":"
                        + probe.address().getPort() + "/metrics and /health")
                + "; SIGTERM or Ctrl-C drains and stops");
 */
@Command(name = "worker", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Run tasks from one or more queues with a command, a webhook, a built-in or your own handlers. "
                    + "Declares the queues first. SIGTERM or Ctrl-C stops consuming, lets running tasks finish "
                    + "(up to --drain-timeout) and exits 0, or 1 when the drain timed out.",
            "",
            "--exec runs CMD with /bin/sh -c per task, the payload on stdin and HOPPER_MESSAGE_ID, HOPPER_TYPE, "
                    + "HOPPER_QUEUE, HOPPER_ATTEMPT (0 on the first run), HOPPER_KEY, HOPPER_REVISION, "
                    + "HOPPER_FENCING_TOKEN and, for a coalesced run, HOPPER_COALESCED (publishes it absorbed) in the "
                    + "environment. Exit 0 = done, 75 = retry later, anything else = "
                    + "permanent failure (dead letter); the end of stderr becomes the error message. Follow-ups: "
                    + "append JSON lines {\"queue\",\"type\",\"key\"?,\"payload\",\"after\"?} to the file "
                    + "$HOPPER_FOLLOW_UPS (\"after\":\"all\" is the join) and write a result for the parent's join "
                    + "to $HOPPER_RESULT; they are published after exit 0, before the ack.",
            "",
            "--webhook POSTs the payload with X-Hopper-* headers; 2xx = done, anything else is retried (queues "
                    + "without a config retry for a day). A 2xx JSON answer {\"hopper\":{\"followUps\":[...],"
                    + "\"result\":...}} asks for follow-ups.",
            "",
            "Examples:",
            "  hopper worker --queue thumbs --exec './make-thumbnail.sh'",
            "  hopper worker --queue hooks --webhook https://example.com/hook",
            "  hopper --config hopper.yml worker --queue uploads \\",
            "      --classpath app.jar --discover",
            ""})
public final class WorkerCommand implements Callable<Integer>, CommandGroup {
    private static final Duration STATUS_EVERY = Duration.ofSeconds(10);

    @Spec
    @Nullable CommandSpec spec;

    @Option(names = "--queue", required = true, paramLabel = "QUEUE",
            description = "Work queue to consume; repeat for several.")
    List<String> queues = new ArrayList<>();

    @Option(names = "--concurrency", paramLabel = "N", description = "Handler threads per queue.")
    @Nullable Integer concurrency;

    @Option(names = "--prefetch", paramLabel = "N",
            description = "Unacked deliveries per queue (default: the config's; 2 x --concurrency when that "
                    + "is higher).")
    @Nullable Integer prefetch;

    @Option(names = "--handler-timeout", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
            description = "Interrupt a handler after this long (e.g. 30s) and retry the task.")
    @Nullable Duration handlerTimeout;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
            defaultValue = "30s", description = "On SIGTERM, how long running tasks may finish (default: 30s).")
    Duration drainTimeout = Duration.ofSeconds(30);

    @Option(names = "--dedupe",
            description = "Record a done-marker for every completed task (keyed ones always get one) and ack "
                    + "without running any delivery whose message id is already done: redeliveries, and copies "
                    + "sent again by 'hopper publish --resume'. Costs one store call per task; use --redis so "
                    + "every worker sees the markers.")
    boolean dedupe;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve Prometheus /metrics and /health on this port (0 picks a free one; default: off).")
    @Nullable Integer metricsPort;

    @Option(names = "--latency-buckets", paramLabel = "DURATIONS", split = ",",
            converter = Converters.DurationConverter.class,
            description = "Histogram buckets of hopper.tasks.duration and hopper.tasks.lag, comma-separated "
                    + "(default: 5ms,10ms,25ms,50ms,100ms,250ms,500ms,1s,2500ms,5s,10s,30s,1m,5m,15m,1h).")
    List<Duration> latencyBuckets = new ArrayList<>(WorkerRegistry.DEFAULT_BUCKETS);

    @Option(names = "--metrics-bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address for --metrics-port (default: 127.0.0.1; 0.0.0.0 for every interface).")
    String metricsBind = "127.0.0.1";

    @Option(names = "--classpath", paramLabel = "JARS", split = "${sys:path.separator}",
            description = "Jars or class directories with handlers for --handler / --discover.")
    List<Path> classpath = new ArrayList<>();

    @ArgGroup(exclusive = true, multiplicity = "1", heading = "Handler (exactly one):%n")
    @Nullable HandlerChoice handler;

    /** The five ways to say what runs a task. */
    static final class HandlerChoice {
        @Option(names = "--exec", paramLabel = "CMD", description = "Run CMD with /bin/sh -c per task.")
        @Nullable String exec;

        @Option(names = "--webhook", paramLabel = "URL", description = "POST each payload to URL.")
        @Nullable URI webhook;

        @Option(names = "--builtin", paramLabel = "NAME", converter = BuiltinName.class,
                description = "noop | sleep ({\"ms\": N}) | fail ({\"failures\": N} or {\"permanent\": true}).")
        @Nullable String builtin;

        @Option(names = "--handler", paramLabel = "CLASS",
                description = "A HandlerProvider, or a TaskHandler<byte[]> for every type.")
        @Nullable String handlerClass;

        @Option(names = "--discover",
                description = "Run every HandlerProvider listed in META-INF/services on the class path.")
        boolean discover;
    }

    /** Exit status when the drain timed out and running tasks were stopped (1, the CLI's "failure"). */
    static final int DRAIN_TIMED_OUT_EXIT = dev.hopper.ops.cli.ExitCodes.FAILURE;

    /** The worker, once built, for handlers that must pause a queue (registered before it is built). */
    private final java.util.concurrent.atomic.AtomicReference<Worker> built =
            new java.util.concurrent.atomic.AtomicReference<>();

    @Override
    public Integer call() throws InterruptedException {
        CommandSpec s = spec();
        PrintWriter err = s.commandLine().getErr();
        GlobalOptions global = GlobalOptions.of(s);
        // A multi-node --uri tells the cluster's size: queues created now get that many replicas unless configured.
        HopperConfig config = resolveConfig(global.config() == null ? null : HopperConfig.load(global.config()))
                .withDefaultQuorumGroupSize(BrokerConfig.builder(global.uri()).build().nodeUris().size());
        StatusLine status = new StatusLine();
        Worker.Builder builder = Worker.builder()
                .broker(BrokerConfig.builder(global.uri()).connectionName("hopper-worker").build())
                .config(config)
                .queues(config.queues().keySet().toArray(String[]::new))
                .listener(status)
                .markUnkeyedDone(dedupe)
                .drainTimeout(drainTimeout);
        List<AutoCloseable> resources = new ArrayList<>();
        ClassLoader loader;
        try {
            loader = HandlerLoader.withClasspath(classpath, WorkerCommand.class.getClassLoader());
        } catch (dev.hopper.topology.HopperException e) {
            throw new ParameterException(s.commandLine(), e.getMessage(), e);
        }
        if (loader instanceof AutoCloseable c) {
            resources.add(c);
        }
        Duration longestTimeout = config.queues().values().stream().map(QueueSpec::handlerTimeout)
                .max(Duration::compareTo).orElse(Duration.ofSeconds(30));
        StuckHandlerWatch stuck = StuckHandlerWatch.forTimeout(longestTimeout);
        String handlerText = registerHandlers(builder, config, loader, resources, stuck);
        PrometheusMeterRegistry metrics = null;
        WorkerRegistry meters = null;
        if (metricsPort != null) {
            if (metricsPort < 0 || metricsPort > 65_535) {
                throw new ParameterException(s.commandLine(), "--metrics-port must be between 0 and 65535, was "
                        + metricsPort);
            }
            meters = new WorkerRegistry(latencyBuckets);
            resources.add(meters);
            metrics = meters.registry();
            builder.meterRegistry(metrics);
        }
        CoordinationStore store = global.redis() == null ? new InMemoryCoordinationStore()
                : new RedisCoordinationStore(RedisStoreConfig.builder(global.redis())
                        .coordination(config.coordination()).build());
        String storeText = global.redis() == null ? "in-memory locks"
                : "locks and revisions in " + RedisStoreConfig.builder(global.redis()).build().redactedUri();
        builder.coordinationStore(store);
        resources.add(store); // closed after the worker: the drain still completes and releases locks
        // The worker declares its queues when it starts (Worker.Builder.declareTopology, on by default).
        Worker worker = builder.build();
        built.set(worker);
        if (meters != null) {
            meters.watch(worker);
        }
        Thread.currentThread().setContextClassLoader(loader);
        // Up before the worker starts, so /health answers 503 (not "connection refused") while it connects.
        ProbeServer probe = metrics == null ? null
                : ProbeServer.start(new InetSocketAddress(metricsBind, metricsPort), metrics,
                        // A handler thread past its timeout ignored the interrupt and is lost to the worker.
                        () -> worker.isHealthy() && stuck.stuck() == 0);
        if (probe != null) {
            resources.add(probe);
        }
        try {
            worker.start();
        } catch (RuntimeException e) {
            closeAll(resources);
            throw e;
        }
        CountDownLatch forever = new CountDownLatch(1);
        StatusPrinter printer = new StatusPrinter(err, global.json() ? global.output() : null);
        ScheduledExecutorService ticker = System.console() == null ? null : startTicker(worker, status, printer);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            printer.stopping(drainTimeout);
            if (ticker != null) {
                ticker.shutdownNow();
            }
            worker.close();
            closeAll(resources); // ExecHandler.close kills and waits for the commands' process groups
            boolean cut = worker.drainTimedOut();
            printer.stopped(status, worker.inFlight(), cut);
            s.commandLine().getOut().flush();
            // The JVM would report 143 (SIGTERM) or 130 (SIGINT): say instead whether the drain finished.
            Runtime.getRuntime().halt(cut ? DRAIN_TIMED_OUT_EXIT : dev.hopper.ops.cli.ExitCodes.OK);
        }, "hopper-worker-shutdown"));
        printer.started(List.copyOf(config.queues().keySet()), BrokerConfig.builder(global.uri()).build().redactedUri(),
                handlerText, storeText, probe == null ? null : "http://" + probe.address().getHostString() + ":"
                        + probe.address().getPort() + "/metrics");
        forever.await();
        return 0;
    }

    /**
     * The queues to run: from the config file when there is one (each {@code --queue} must be in it), else
     * defaults; with the command-line overrides applied.
     *
     * @throws ParameterException (exit 2) when an override or a queue name is invalid
     */
    HopperConfig resolveConfig(@Nullable HopperConfig file) {
        Map<String, QueueSpec> specs = new LinkedHashMap<>();
        try {
            for (String q : queues) {
                QueueSpec base = file != null ? file.requireQueue(q) : defaultSpec(q);
                specs.put(q, override(base));
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec().commandLine(), e.getMessage(), e);
        }
        return new HopperConfig(specs, file == null ? CoordinationSpec.DEFAULT : file.coordination());
    }

    private QueueSpec defaultSpec(String queue) {
        boolean webhook = handler != null && handler.webhook != null;
        return QueueSpec.builder(queue).retry(webhook ? RetryPolicy.RETRY_FOR_A_DAY : RetryPolicy.DEFAULT).build();
    }

    private QueueSpec override(QueueSpec base) {
        QueueSpec.Builder b = base.toBuilder();
        if (concurrency != null) {
            b.concurrency(concurrency);
        }
        if (prefetch != null) {
            b.prefetch(prefetch);
        } else if (concurrency != null && concurrency > base.prefetch()) {
            b.prefetch(Math.min(65_535, concurrency * 2));
        }
        if (handlerTimeout != null) {
            b.handlerTimeout(handlerTimeout);
        }
        return b.build();
    }

    private String registerHandlers(Worker.Builder b, HopperConfig config, ClassLoader loader,
            List<AutoCloseable> resources, StuckHandlerWatch stuck) {
        HandlerChoice h = java.util.Objects.requireNonNull(handler, "picocli enforces one handler option");
        if (h.exec != null) {
            ExecHandler exec;
            try {
                exec = new ExecHandler(h.exec, followUpLines(config));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec().commandLine(), e.getMessage());
            }
            java.util.Optional<String> problem = ExecCommandCheck.problem(h.exec, Path.of("").toAbsolutePath());
            if (problem.isPresent()) {
                exec.close();
                throw new ParameterException(spec().commandLine(), problem.get());
            }
            resources.add(exec);
            b.defaultHandler(byte[].class, stuck.watch(new PauseOnDeploymentError(exec, built)));
            return "--exec";
        }
        if (h.webhook != null) {
            Duration timeout = config.queues().values().stream().map(QueueSpec::handlerTimeout)
                    .max(Duration::compareTo).orElse(Duration.ofSeconds(30));
            try {
                b.defaultHandler(byte[].class, stuck.watch(new WebhookHandler(h.webhook, timeout,
                        followUpLines(config))));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec().commandLine(), e.getMessage());
            }
            return "--webhook " + WebhookHandler.shown(h.webhook);
        }
        if (h.builtin != null) {
            TaskHandler<JsonNode> builtin = BuiltinHandlers.named(h.builtin);
            b.defaultHandler(JsonNode.class, stuck.watch(builtin));
            return "--builtin " + h.builtin;
        }
        HandlerProvider.Registry registry = new HandlerProvider.Registry() {
            @Override
            public <T> HandlerProvider.Registry handler(String type, Class<T> payloadType, TaskHandler<T> th) {
                b.handler(type, payloadType, stuck.watch(th));
                return this;
            }
        };
        HandlerLoader handlers = new HandlerLoader(loader);
        if (h.handlerClass != null) {
            return "--handler " + handlers.load(h.handlerClass, registry, th -> b.defaultHandler(byte[].class, stuck.watch(th)));
        }
        return "--discover " + handlers.discover(registry);
    }

    /**
     * How {@code --exec} and {@code --webhook} follow-ups are checked: a follow-up may go to any queue of
     * {@code --config} (or, without one, to the worker's own queues); its payload may be as large as the smallest
     * {@code max-body-bytes} among those queues; at most {@value FollowUpStore#DEFAULT_MAX_CHILDREN} per task.
     */
    private FollowUpLines followUpLines(HopperConfig running) {
        java.nio.file.Path file = GlobalOptions.of(spec()).config();
        HopperConfig all = file == null ? running : HopperConfig.load(file);
        java.util.Set<String> known = new java.util.TreeSet<>(all.queues().keySet());
        known.addAll(running.queues().keySet());
        int maxPayload = all.queues().values().stream().mapToInt(QueueSpec::maxBodyBytes).min()
                .orElse(1024 * 1024);
        return new FollowUpLines(new FollowUpRules(known::contains, String.join(", ", known),
                FollowUpStore.DEFAULT_MAX_CHILDREN, maxPayload));
    }

    private static ScheduledExecutorService startTicker(Worker worker, StatusLine status, StatusPrinter printer) {
        ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "hopper-worker-status");
            th.setDaemon(true);
            return th;
        });
        long every = STATUS_EVERY.toMillis();
        t.scheduleAtFixedRate(() -> {
            printer.status(status, worker.inFlight());
        }, every, every, TimeUnit.MILLISECONDS);
        return t;
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (Exception e) {
                // Shutting down: nothing useful to do about a resource that fails to close.
                org.slf4j.LoggerFactory.getLogger(WorkerCommand.class).debug("close failed: {}", e.toString());
            }
        }
    }

    private CommandSpec spec() {
        return java.util.Objects.requireNonNull(spec, "picocli injects the spec");
    }

    /** One of {@link BuiltinHandlers#NAMES}. */
    static final class BuiltinName implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!BuiltinHandlers.NAMES.contains(value)) {
                throw new TypeConversionException("no built-in handler '" + value + "'; choose one of "
                        + String.join(", ", BuiltinHandlers.NAMES));
            }
            return value;
        }
    }
}
