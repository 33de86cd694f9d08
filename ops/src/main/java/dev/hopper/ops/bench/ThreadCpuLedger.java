package dev.hopper.ops.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Splits this JVM's CPU time between the publishing and the consuming side of an in-process run, by thread.
 * Threads that existed when the ledger was created (the benchmark's own) count for neither. Threads started while
 * {@link #asPublisher} runs (connection I/O threads, store clients) and threads named after the benchmark's
 * publishers count as publisher; every other new thread (worker connections, consumer dispatch, handler pools,
 * timers, the worker's store client) counts as worker. JIT and GC threads are not Java threads and count for
 * neither; the report gives the process total as well.
 *
 * <p>Thread-safe.
 */
final class ThreadCpuLedger {
    enum Role { PUBLISHER, WORKER }

    /** Names of publisher threads started lazily: the benchmark's publisher threads and their confirm threads. */
    static final String PUBLISHER_THREAD_PREFIX = "hopper-bench-publisher";
    private static final String PUBLISHER_CONFIRMS_PREFIX = "hopper-confirms-" + PUBLISHER_THREAD_PREFIX;

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Set<Long> excluded;
    private final Set<Long> publisherIds = ConcurrentHashMap.newKeySet();
    private final LongAdder exitedPublisherNanos = new LongAdder();

    ThreadCpuLedger() {
        if (threads.isThreadCpuTimeSupported() && !threads.isThreadCpuTimeEnabled()) {
            threads.setThreadCpuTimeEnabled(true);
        }
        excluded = liveIds();
    }

    /** Runs {@code action}; the threads it starts count as publisher threads. */
    <T> T asPublisher(Supplier<T> action) {
        Set<Long> before = liveIds();
        try {
            return action.get();
        } finally {
            Set<Long> started = liveIds();
            started.removeAll(before);
            publisherIds.addAll(started);
        }
    }

    /** Called by a publisher thread as its last act: its CPU time is kept after it ends. */
    void publisherThreadEnding() {
        long cpu = threads.getCurrentThreadCpuTime();
        if (cpu > 0) {
            exitedPublisherNanos.add(cpu);
        }
    }

    /** CPU time so far by role, in nanoseconds (ended publisher threads included). */
    Map<Role, Long> sample() {
        Map<Role, Long> out = new EnumMap<>(Role.class);
        out.put(Role.PUBLISHER, exitedPublisherNanos.sum());
        out.put(Role.WORKER, 0L);
        long[] ids = threads.getAllThreadIds();
        ThreadInfo[] infos = threads.getThreadInfo(ids);
        for (int i = 0; i < ids.length; i++) {
            if (excluded.contains(ids[i]) || infos[i] == null) {
                continue;
            }
            long cpu = threads.getThreadCpuTime(ids[i]);
            if (cpu <= 0) {
                continue;
            }
            String name = infos[i].getThreadName();
            Role role = publisherIds.contains(ids[i]) || name.startsWith(PUBLISHER_THREAD_PREFIX)
                    || name.startsWith(PUBLISHER_CONFIRMS_PREFIX) ? Role.PUBLISHER : Role.WORKER;
            out.merge(role, cpu, Long::sum);
        }
        return out;
    }

    /** CPU time of this whole JVM (all threads, GC and JIT included), in nanoseconds. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Heap in use after a full collection, in bytes. */
    static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private Set<Long> liveIds() {
        Set<Long> ids = new HashSet<>();
        for (long id : threads.getAllThreadIds()) {
            ids.add(id);
        }
        return ids;
    }
}
