package dev.hopper.ops.bench;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.TreeMap;

/**
 * What the worker side measured in one run.
 *
 * @param histograms end-to-end latency and handler time of every completed task and the lock and revision checks,
 *     in microseconds (see {@link CompletionTracker})
 * @param otherOutcomes settlements other than success, by outcome tag
 * @param cpuNanos CPU time the workers used between their start and the end of the run
 * @param cpuSource {@code threads} (summed over the worker's threads in this JVM) or {@code processes} (process
 *     CPU time of the worker JVMs, including their GC and JIT threads)
 * @param heapStartBytes heap used after a full GC once the workers consumed, summed over worker JVMs
 * @param heapEndBytes heap used after a full GC once every task completed, before the workers stopped
 * @param lastCompletionMicros wall-clock time of the last completion, microseconds since the epoch
 */
record WorkerStats(long completed, RunHistograms histograms, Map<String, Long> otherOutcomes, long cpuNanos,
        String cpuSource, long heapStartBytes, long heapEndBytes, long lastCompletionMicros) {
    WorkerStats {
        requireNonNull(histograms, "histograms");
        requireNonNull(cpuSource, "cpuSource");
        otherOutcomes = new TreeMap<>(otherOutcomes);
    }
}
