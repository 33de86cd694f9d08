package dev.hopper.ops.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * The result of one benchmark run. Rates are tasks per second; times are seconds unless the name says otherwise.
 *
 * @param config the run's settings, as {@link BenchSettings#describe()} echoes them
 * @param published tasks the broker confirmed
 * @param publishFailures tasks whose publish failed (nacked, unroutable, timed out, connection lost)
 * @param completed tasks whose handler succeeded and that were acked
 * @param otherOutcomes settlements other than success (e.g. {@code lock_busy}, {@code retried}); empty in a clean run
 * @param publishRate confirmed tasks per second, from the first publish to the last confirm
 * @param completionRate completed tasks per second, from the first publish to the last completion
 * @param latency publish to handler end, over every completed task
 * @param handler the handler's run time, over every completed task
 * @param lockCheck the lock and revision check (the worker's check-and-lock store call, sent to answered), over
 *     every settlement that took one: {@code count} 0 in unkeyed runs. Part of {@code latency}, not of
 *     {@code handler}.
 * @param storePing bare Redis PINGs sent beside a paced run with the Redis store ({@link StorePingProbe}): this
 *     machine's round trip at the time, the floor under {@code lockCheck}; {@code count} 0 in other runs
 * @param cpuSource how CPU was measured: {@code threads} (in-process worker: summed per thread, without GC and JIT)
 *     or {@code processes} (worker JVMs and the benchmark JVM as a whole)
 * @param processCpuSeconds CPU time of the benchmark's JVM during the run (in-process: publisher plus worker plus
 *     GC and JIT)
 * @param heapStartBytes worker heap used after a full GC once consuming started (in-process: the whole JVM's)
 * @param heapEndBytes the same once every task completed
 * @param bodyBytes size of one task's JSON body
 */
record BenchReport(Map<String, Object> config, String queue, long published, long publishFailures,
        @Nullable String firstPublishFailure, long completed, Map<String, Long> otherOutcomes, double publishSeconds,
        double publishRate, double completionSeconds, double completionRate, Latency latency,
        Latency handler, Latency lockCheck, Latency storePing,
        double publisherCpuSeconds, double workerCpuSeconds, double workerCpuMicrosPerTask, String cpuSource,
        double processCpuSeconds, long heapStartBytes, long heapEndBytes, int bodyBytes) {

    BenchReport {
        config = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(config));
        requireNonNull(queue, "queue");
        otherOutcomes = java.util.Collections.unmodifiableMap(new TreeMap<>(otherOutcomes));
        requireNonNull(latency, "latency");
        requireNonNull(handler, "handler");
        requireNonNull(lockCheck, "lockCheck");
        requireNonNull(storePing, "storePing");
        requireNonNull(cpuSource, "cpuSource");
    }

    /**
     * True when every task was confirmed, completed once (none, in a publish-only run), and nothing else happened.
     */
    @JsonProperty("clean")
    boolean clean() {
        boolean publishOnly = String.valueOf(config.get("workers")).startsWith("none");
        return publishFailures == 0 && completed == (publishOnly ? 0 : published) && otherOutcomes.isEmpty();
    }

    /**
     * Percentiles of one latency histogram in milliseconds (recorded in microseconds, HdrHistogram, 3 significant
     * digits).
     *
     * @param count how many latencies were recorded
     */
    record Latency(long count, double p50Ms, double p95Ms, double p99Ms, double p999Ms, double maxMs, double meanMs) {

        static Latency of(Histogram micros) {
            if (micros.getTotalCount() == 0) {
                return new Latency(0, 0, 0, 0, 0, 0, 0);
            }
            return new Latency(micros.getTotalCount(), ms(micros.getValueAtPercentile(50)),
                    ms(micros.getValueAtPercentile(95)), ms(micros.getValueAtPercentile(99)),
                    ms(micros.getValueAtPercentile(99.9)), ms(micros.getMaxValue()), micros.getMean() / 1000.0);
        }

        private static double ms(long micros) {
            return micros / 1000.0;
        }
    }
}
