package dev.hopper.ops.bench;

import dev.hopper.consumer.Worker;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import java.time.Clock;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link Worker} in the benchmark's JVM, with its own consuming and publishing connections. Its CPU time is
 * the CPU time of the threads the {@link ThreadCpuLedger} attributes to the worker; its heap is the whole JVM's.
 */
final class InProcessWorker implements WorkerSide {
    private static final Logger log = LoggerFactory.getLogger(InProcessWorker.class);

    private final BenchSettings settings;
    private final BenchQueue queue;
    private final @Nullable CoordinationStore store;
    private final ThreadCpuLedger ledger;
    private final CompletionTracker tracker = new CompletionTracker(Clock.systemUTC());
    private @Nullable BrokerConnection consume;
    private @Nullable BrokerConnection publish;
    private @Nullable Worker worker;
    private long cpuStart;
    private long heapStart;

    /** @param store the worker's coordination store (not closed here), or null for none */
    InProcessWorker(BenchSettings settings, BenchQueue queue, @Nullable CoordinationStore store,
            ThreadCpuLedger ledger) {
        this.settings = settings;
        this.queue = queue;
        this.store = store;
        this.ledger = ledger;
    }

    @Override
    public void start() {
        consume = BrokerConnection.open(BrokerConfig.builder(settings.brokerUri())
                .connectionName("hopper-bench-worker-consume").dispatchOnIoThread(true).build());
        publish = BrokerConnection.open(BrokerConfig.builder(settings.brokerUri())
                .connectionName("hopper-bench-worker-publish").build());
        Worker.Builder b = BenchHandler.register(Worker.builder().connections(consume, publish)
                        .config(queue.config()).queues(queue.name()), settings.handler(), settings.sleep())
                .listener(tracker).drainTimeout(Duration.ofSeconds(10));
        if (store != null) {
            b.coordinationStore(store);
        }
        worker = b.build();
        worker.start();
        heapStart = ThreadCpuLedger.heapAfterGc();
        cpuStart = ledger.sample().get(ThreadCpuLedger.Role.WORKER);
    }

    @Override
    public void resetMeasurements() {
        tracker.reset();
        heapStart = ThreadCpuLedger.heapAfterGc();
        cpuStart = ledger.sample().get(ThreadCpuLedger.Role.WORKER);
    }

    @Override
    public long completed() {
        return tracker.completed();
    }

    @Override
    public WorkerStats finish() {
        long heapEnd = ThreadCpuLedger.heapAfterGc();
        long cpu = ledger.sample().get(ThreadCpuLedger.Role.WORKER) - cpuStart;
        close();
        return new WorkerStats(tracker.completed(), tracker.histograms(), tracker.otherOutcomes(), cpu, "threads",
                heapStart, heapEnd, tracker.lastCompletionMicros());
    }

    @Override
    public void close() {
        Worker w = worker;
        worker = null;
        if (w != null) {
            try {
                w.close();
            } catch (RuntimeException e) {
                log.warn("bench worker did not close cleanly: {}", e.toString());
            }
        }
        for (BrokerConnection c : new BrokerConnection[] {consume, publish}) {
            if (c != null) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    log.warn("bench worker connection did not close cleanly: {}", e.toString());
                }
            }
        }
        consume = null;
        publish = null;
    }
}
