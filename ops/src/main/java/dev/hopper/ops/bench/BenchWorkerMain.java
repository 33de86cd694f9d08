package dev.hopper.ops.bench;

import dev.hopper.consumer.Worker;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.publisher.BrokerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A worker JVM of {@code hopper bench --workers K}: runs one {@link Worker} on the benchmark's queue and talks to the
 * benchmark over standard input and output ({@link WorkerProtocol}). Started by {@link WorkerJvms} with the
 * benchmark's own class path; not meant to be run by hand. Exits 0 after reporting its result, 1 when the worker
 * could not start, 2 on bad arguments.
 */
@Command(name = "hopper-bench-worker", description = "Worker JVM of 'hopper bench --workers K' (internal).")
public final class BenchWorkerMain implements Callable<Integer> {
    @Option(names = "--uri", required = true)
    URI uri = BrokerConfig.DEFAULT_URI;
    @Option(names = "--queue", required = true)
    String queue = "";
    @Option(names = "--namespace", required = true)
    String namespace = "";
    @Option(names = "--index", defaultValue = "0")
    int index;
    @Option(names = "--concurrency", required = true)
    int concurrency;
    @Option(names = "--prefetch", required = true)
    int prefetch;
    @Option(names = "--store", required = true, converter = BenchCommand.StoreConverter.class)
    BenchSettings.Store store = BenchSettings.Store.NONE;
    @Option(names = "--redis", defaultValue = "redis://127.0.0.1:6379")
    URI redis = BenchSettings.DEFAULT_REDIS_URI;
    @Option(names = "--handler", required = true, converter = BenchCommand.HandlerConverter.class)
    BenchSettings.HandlerKind handler = BenchSettings.HandlerKind.NOOP;
    @Option(names = "--sleep-ms", defaultValue = "0")
    long sleepMs;

    private final PrintStream out;

    BenchWorkerMain(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchWorkerMain(System.out)).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        BenchQueue q = new BenchQueue(queue, concurrency, prefetch, namespace);
        CompletionTracker tracker = new CompletionTracker(Clock.systemUTC());
        @Nullable CoordinationStore coordination = q.openStore(store, redis);
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hopper-bench-progress");
            t.setDaemon(true);
            return t;
        });
        try {
            Worker.Builder b = BenchHandler.register(Worker.builder()
                    .broker(BrokerConfig.builder(uri).connectionName("hopper-bench-worker-" + index).build())
                    .config(q.config()).queues(queue), handler, Duration.ofMillis(sleepMs))
                    .listener(tracker).drainTimeout(Duration.ofSeconds(10));
            if (coordination != null) {
                b.coordinationStore(coordination);
            }
            try (Worker worker = b.build()) {
                worker.start();
                long heapStart = ThreadCpuLedger.heapAfterGc();
                long cpuStart = ThreadCpuLedger.processCpuNanos();
                say(WorkerProtocol.READY);
                AtomicLong reported = new AtomicLong(-1);
                progress.scheduleWithFixedDelay(() -> {
                    long n = tracker.completed();
                    if (reported.getAndSet(n) != n) {
                        say(WorkerProtocol.PROGRESS + " " + n);
                    }
                }, 100, 100, TimeUnit.MILLISECONDS);
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null && !WorkerProtocol.STOP.equals(line.trim())) {
                    if (WorkerProtocol.RESET.equals(line.trim())) {
                        // On the progress thread, so that no count from before the reset is reported after it.
                        progress.submit(() -> {
                            tracker.reset();
                            reported.set(-1);
                        }).get();
                        heapStart = ThreadCpuLedger.heapAfterGc();
                        cpuStart = ThreadCpuLedger.processCpuNanos();
                        say(WorkerProtocol.READY);
                    }
                }
                // Stop, or the benchmark went away (end of input): report and exit either way.
                long heapEnd = ThreadCpuLedger.heapAfterGc();
                long cpu = ThreadCpuLedger.processCpuNanos() - cpuStart;
                progress.shutdownNow();
                progress.awaitTermination(5, TimeUnit.SECONDS);
                synchronized (out) {
                    out.println(WorkerProtocol.resultLine(WorkerProtocol.Result.of(tracker, cpu, heapStart, heapEnd)));
                    out.flush();
                }
            }
            return 0;
        } finally {
            progress.shutdownNow();
            if (coordination != null) {
                coordination.close();
            }
        }
    }

    private void say(String message) {
        synchronized (out) {
            out.println(WorkerProtocol.PREFIX + message);
            out.flush();
        }
    }
}
