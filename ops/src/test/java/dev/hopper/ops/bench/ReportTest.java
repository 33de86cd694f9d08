package dev.hopper.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.consumer.Outcome;
import dev.hopper.consumer.WorkerListener;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** Latency recording, the worker JVM protocol and the two report formats. */
class ReportTest {

    @Test
    void trackerCountsSuccessesAndRecordsLagPlusHandlerTime() {
        CompletionTracker t = new CompletionTracker(Clock.systemUTC());

        t.onSettled(new WorkerListener.Settled("q", "bench", Outcome.SUCCESS, Duration.ofMillis(2),
                Duration.ofMillis(5), 1));
        t.onSettled(new WorkerListener.Settled("q", "bench", Outcome.SUCCESS, Duration.ofMillis(1),
                Duration.ofMillis(10), 1));
        t.onSettled(new WorkerListener.Settled("q", "bench", Outcome.LOCK_BUSY, null, null, 0));

        assertThat(t.completed()).isEqualTo(2);
        assertThat(t.otherOutcomes()).isEqualTo(Map.of("lock_busy", 1L));
        Histogram h = t.latencies();
        assertThat(h.getTotalCount()).isEqualTo(2);
        assertThat(h.getMinValue()).isBetween(6_990L, 7_010L);
        assertThat(h.getMaxValue()).isBetween(10_990L, 11_010L);
        assertThat(t.lastCompletionMicros()).isPositive();
    }

    @Test
    void trackerRecordsHandlerTimeAndLockChecksApartFromTheEndToEndLatency() {
        CompletionTracker t = new CompletionTracker(Clock.systemUTC());

        t.onSettled(new WorkerListener.Settled("q", "bench", Outcome.SUCCESS, "none", Duration.ofMillis(2),
                Duration.ofMillis(5), 1, null, 0, Duration.ofNanos(300_000)));
        t.onSettled(new WorkerListener.Settled("q", "bench", Outcome.LOCK_BUSY, "lock-busy", null, null, 1, null, 0,
                Duration.ofNanos(900_000)));
        t.onSettled(new WorkerListener.Settled("q", "bench", Outcome.SUCCESS, Duration.ofMillis(4),
                Duration.ofMillis(1), 1));

        RunHistograms h = t.histograms();
        assertThat(h.endToEnd().getTotalCount()).isEqualTo(2);
        assertThat(h.handler().getTotalCount()).isEqualTo(2);
        assertThat(h.handler().getMinValue()).isBetween(1_990L, 2_010L);
        assertThat(h.handler().getMaxValue()).isBetween(3_990L, 4_010L);
        assertThat(h.lockCheck().getTotalCount()).as("every answered check, busy ones too").isEqualTo(2);
        assertThat(h.lockCheck().getMinValue()).isBetween(299L, 301L);
        assertThat(h.lockCheck().getMaxValue()).isBetween(899L, 901L);

        t.reset();
        assertThat(t.histograms().handler().getTotalCount()).isZero();
        assertThat(t.histograms().lockCheck().getTotalCount()).isZero();
    }

    @Test
    void percentilesOfAMicrosecondHistogramAreMilliseconds() {
        Histogram micros = new Histogram(3);
        for (int i = 1; i <= 1000; i++) {
            micros.recordValue(i); // 1 us .. 1 ms
        }

        BenchReport.Latency l = BenchReport.Latency.of(micros);

        assertThat(l.count()).isEqualTo(1000);
        assertThat(l.p50Ms()).isCloseTo(0.5, within(0.001));
        assertThat(l.p95Ms()).isCloseTo(0.95, within(0.001));
        assertThat(l.p99Ms()).isCloseTo(0.99, within(0.001));
        assertThat(l.maxMs()).isCloseTo(1.0, within(0.001));
        assertThat(BenchReport.Latency.of(new Histogram(3)).count()).isZero();
    }

    @Test
    void workerResultSurvivesTheLineProtocol() {
        CompletionTracker t = new CompletionTracker(Clock.systemUTC());
        for (int i = 1; i <= 100; i++) {
            t.onSettled(new WorkerListener.Settled("q", "bench", Outcome.SUCCESS, "none", Duration.ofNanos(i * 1000L),
                    Duration.ofMillis(i), 1, null, 0, Duration.ofNanos(i * 10_000L)));
        }
        String line = WorkerProtocol.resultLine(WorkerProtocol.Result.of(t, 123, 1000, 2000));

        String message = WorkerProtocol.message(line);
        assertThat(message).startsWith("result ");
        WorkerProtocol.Result r = WorkerProtocol.parseResult(message.substring("result ".length()));

        assertThat(r.completed()).isEqualTo(100);
        assertThat(r.cpuNanos()).isEqualTo(123);
        assertThat(r.heapEndBytes()).isEqualTo(2000);
        assertThat(r.latencies().getTotalCount()).isEqualTo(100);
        assertThat(r.latencies().getValueAtPercentile(50)).isBetween(49_900L, 50_100L);
        RunHistograms h = r.histograms();
        assertThat(h.handler().getTotalCount()).isEqualTo(100);
        assertThat(h.handler().getMaxValue()).isEqualTo(100);
        assertThat(h.lockCheck().getTotalCount()).isEqualTo(100);
        assertThat(h.lockCheck().getValueAtPercentile(50)).isBetween(499L, 501L);

        RunHistograms sum = RunHistograms.empty();
        sum.add(h);
        sum.add(h);
        assertThat(sum.lockCheck().getTotalCount()).as("worker JVMs' histograms add up").isEqualTo(200);
        assertThat(WorkerProtocol.message("12:00:00 INFO something else")).isNull();
    }

    @Test
    void jsonReportIsOneParsableLine() throws Exception {
        StringWriter out = new StringWriter();
        ReportWriter.forJson(true).write(sample(), new PrintWriter(out));

        assertThat(out.toString().strip()).doesNotContain("\n");
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("published").asLong()).isEqualTo(300);
        assertThat(json.get("completed").asLong()).isEqualTo(300);
        assertThat(json.get("clean").asBoolean()).isTrue();
        assertThat(json.at("/latency/p99Ms").asDouble()).isPositive();
        assertThat(json.at("/lockCheck/p99Ms").asDouble()).isCloseTo(0.297, within(0.001));
        assertThat(json.at("/lockCheck/count").asLong()).isEqualTo(300);
        assertThat(json.at("/handler/p50Ms").asDouble()).isCloseTo(0.015, within(0.001));
        assertThat(json.at("/config/store").asText()).isEqualTo("memory");
    }

    @Test
    void tableNamesEveryMeasurement() {
        StringWriter out = new StringWriter();
        ReportWriter.forJson(false).write(sample(), new PrintWriter(out));

        assertThat(out.toString()).contains("published", "completed", "latency (ms)", "p99", "cpu (s)",
                "heap after GC", "store=memory", "ok: published == completed");
        assertThat(out.toString()).containsPattern("(?m)^handler \\(ms\\) +p50 0\\.015 .*p99 0\\.029 ")
                .containsPattern("(?m)^lock check \\(ms\\) p50 0\\.150 +p95 0\\.285 +p99 0\\.297 +max 0\\.300 ")
                .contains("300 checks")
                .containsPattern("(?m)^store ping \\(ms\\) p50 0\\.100 +p95 0\\.190 +p99 0\\.198 +max 0\\.200 ")
                .contains("200 pings");
    }

    @Test
    void tableLeavesOutTheLockCheckOfAnUnkeyedRun() {
        StringWriter out = new StringWriter();
        BenchReport keyed = sample();
        BenchReport unkeyed = new BenchReport(keyed.config(), keyed.queue(), 300, 0, null, 300, Map.of(), 0.5, 600,
                0.6, 500, keyed.latency(), keyed.handler(), BenchReport.Latency.of(new Histogram(3)),
                BenchReport.Latency.of(new Histogram(3)), 0.1, 0.2, 666,
                "threads", 0.4, 1 << 20, 1 << 20, 1000);
        ReportWriter.forJson(false).write(unkeyed, new PrintWriter(out));

        assertThat(out.toString()).contains("handler (ms)").doesNotContain("lock check").doesNotContain("store ping");
    }

    private static BenchReport sample() {
        Histogram h = new Histogram(3);
        Histogram handler = new Histogram(3);
        Histogram lockCheck = new Histogram(3);
        for (int i = 1; i <= 300; i++) {
            h.recordValue(i * 10L);
            handler.recordValue(i / 10);
            lockCheck.recordValue(i);
        }
        Histogram ping = new Histogram(3);
        for (int i = 1; i <= 200; i++) {
            ping.recordValue(i);
        }
        BenchSettings s = BenchSettings.builder().tasks(300).keyed(true).store(BenchSettings.Store.MEMORY).build();
        return new BenchReport(s.describe(), "hopper-bench-x", 300, 0, null, 300, Map.of(), 0.5, 600, 0.6, 500,
                BenchReport.Latency.of(h), BenchReport.Latency.of(handler), BenchReport.Latency.of(lockCheck),
                BenchReport.Latency.of(ping), 0.1, 0.2, 666, "threads", 0.4, 1 << 20, 1 << 20, 1000);
    }
}
