package dev.hopper.ops.bench;

import dev.hopper.topology.HopperException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * K worker JVMs ({@link BenchWorkerMain}) started with this JVM's {@code java} and class path (so the same
 * {@code hopper.jar}, or the test class path). Their standard error is inherited; their standard output carries
 * the {@link WorkerProtocol}. A JVM that exits before reporting fails the run; {@link #close()} kills any JVM still
 * running.
 */
final class WorkerJvms implements WorkerSide {
    private static final Logger log = LoggerFactory.getLogger(WorkerJvms.class);
    private static final long START_TIMEOUT_SECONDS = 60;
    private static final long RESULT_TIMEOUT_SECONDS = 60;

    private final BenchSettings settings;
    private final BenchQueue queue;
    private final List<Child> children = new ArrayList<>();

    WorkerJvms(BenchSettings settings, BenchQueue queue) {
        this.settings = settings;
        this.queue = queue;
    }

    /** One worker JVM and what it said. */
    private static final class Child {
        final int index;
        final Process process;
        final CountDownLatch ready = new CountDownLatch(1);
        final java.util.concurrent.Semaphore readies = new java.util.concurrent.Semaphore(0);
        volatile boolean sawReady;
        final AtomicLong progress = new AtomicLong();
        final CompletableFuture<WorkerProtocol.Result> result = new CompletableFuture<>();

        Child(int index, Process process) {
            this.index = index;
            this.process = process;
        }

        void read() {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String m = WorkerProtocol.message(line);
                    if (m == null) {
                        continue;
                    }
                    if (m.equals(WorkerProtocol.READY)) {
                        sawReady = true;
                        ready.countDown();
                        readies.release();
                    } else if (m.startsWith(WorkerProtocol.PROGRESS + " ")) {
                        progress.set(Long.parseLong(m.substring(WorkerProtocol.PROGRESS.length() + 1).trim()));
                    } else if (m.startsWith(WorkerProtocol.RESULT + " ")) {
                        result.complete(WorkerProtocol.parseResult(m.substring(WorkerProtocol.RESULT.length() + 1)));
                    }
                }
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            } finally {
                ready.countDown(); // wake a waiter; it checks whether the JVM is still alive
                result.completeExceptionally(new HopperException("worker JVM " + index + " ended without a result"));
            }
        }
    }

    @Override
    public void start() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("java.class.path");
        for (int i = 0; i < settings.workers(); i++) {
            List<String> cmd = new ArrayList<>();
            cmd.add(java);
            cmd.addAll(settings.workerJvmArgs());
            cmd.addAll(List.of("-cp", classPath, BenchWorkerMain.class.getName(),
                    "--uri", settings.brokerUri().toString(), "--queue", queue.name(),
                    "--namespace", queue.namespace(), "--index", String.valueOf(i),
                    "--concurrency", String.valueOf(queue.concurrency()),
                    "--prefetch", String.valueOf(queue.prefetch()),
                    "--store", settings.store().label(), "--redis", settings.redisUri().toString(),
                    "--handler", settings.handler().label(), "--sleep-ms", String.valueOf(settings.sleep().toMillis())));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new HopperException("cannot start a worker JVM with " + java + ": " + e.getMessage(), e);
            }
            Child c = new Child(i, p);
            children.add(c);
            Thread reader = new Thread(c::read, "hopper-bench-worker-jvm-" + i);
            reader.setDaemon(true);
            reader.start();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        for (Child c : children) {
            try {
                if (!c.ready.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    throw new HopperException("worker JVM " + c.index + " did not start consuming within "
                            + START_TIMEOUT_SECONDS + "s; see its log above");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HopperException("interrupted while worker JVMs started", e);
            }
            if (!c.sawReady) {
                throw new HopperException("worker JVM " + c.index + " exited" + exitCode(c.process)
                        + " before consuming; see its log above");
            }
        }
    }

    private static String exitCode(Process p) {
        try {
            return p.waitFor(5, TimeUnit.SECONDS) ? " with code " + p.exitValue() : "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    @Override
    public void resetMeasurements() {
        for (Child c : children) {
            c.readies.drainPermits();
            send(c, WorkerProtocol.RESET);
        }
        for (Child c : children) {
            try {
                if (!c.readies.tryAcquire(RESULT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    throw new HopperException("worker JVM " + c.index + " did not confirm the end of the warm-up");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HopperException("interrupted while worker JVMs reset", e);
            }
            c.progress.set(0);
        }
    }

    private static void send(Child c, String line) {
        try {
            OutputStream in = c.process.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            log.warn("cannot send '{}' to worker JVM {}: {}", line, c.index, e.toString());
        }
    }

    @Override
    public long completed() {
        long sum = 0;
        for (Child c : children) {
            sum += c.progress.get();
        }
        return sum;
    }

    /** Worker JVMs that exited although they were not told to stop. */
    List<Integer> exited() {
        List<Integer> out = new ArrayList<>();
        for (Child c : children) {
            if (!c.process.isAlive()) {
                out.add(c.index);
            }
        }
        return out;
    }

    @Override
    public WorkerStats finish() {
        for (Child c : children) {
            send(c, WorkerProtocol.STOP);
        }
        long completed = 0;
        long cpu = 0;
        long heapStart = 0;
        long heapEnd = 0;
        long last = 0;
        RunHistograms histograms = RunHistograms.empty();
        Map<String, Long> outcomes = new TreeMap<>();
        for (Child c : children) {
            WorkerProtocol.Result r;
            try {
                r = c.result.get(RESULT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HopperException("interrupted while waiting for worker JVM results", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new HopperException("worker JVM " + c.index + " sent no result: "
                        + (e.getCause() == null ? e : e.getCause()).getMessage(), e);
            }
            completed += r.completed();
            cpu += r.cpuNanos();
            heapStart += r.heapStartBytes();
            heapEnd += r.heapEndBytes();
            last = Math.max(last, r.lastCompletionMicros());
            histograms.add(r.histograms());
            r.otherOutcomes().forEach((k, v) -> outcomes.merge(k, v, Long::sum));
        }
        for (Child c : children) {
            try {
                if (!c.process.waitFor(30, TimeUnit.SECONDS)) {
                    log.warn("worker JVM {} did not exit after stop; killing it", c.index);
                    c.process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new WorkerStats(completed, histograms, outcomes, cpu, "processes", heapStart, heapEnd, last);
    }

    @Override
    public void close() {
        for (Child c : children) {
            if (c.process.isAlive()) {
                c.process.destroyForcibly();
            }
        }
    }
}
