package dev.hopper.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;

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
    void workerResultSurvivesTheLineProtocol() {
        CompletionTracker t = new CompletionTracker(Clock.systemUTC());
        for (int i = 1; i <= 100; i++) {
            t.onSettled(new WorkerListener.Settled("q", "bench", Outcome.SUCCESS, Duration.ZERO,
                    Duration.ofMillis(i), 1));
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
        assertThat(json.at("/config/store").asText()).isEqualTo("memory");
    }

    @Test
    void tableNamesEveryMeasurement() {
        StringWriter out = new StringWriter();
        ReportWriter.forJson(false).write(sample(), new PrintWriter(out));

        assertThat(out.toString()).contains("published", "completed", "latency (ms)", "p99", "cpu (s)",
                "heap after GC", "store=memory", "ok: published == completed");
    }

    private static BenchReport sample() {
        Histogram h = new Histogram(3);
        for (int i = 1; i <= 300; i++) {
            h.recordValue(i * 10L);
        }
        BenchSettings s = BenchSettings.builder().tasks(300).keyed(true).store(BenchSettings.Store.MEMORY).build();
        return new BenchReport(s.describe(), "hopper-bench-x", 300, 0, null, 300, Map.of(), 0.5, 600, 0.6, 500,
                BenchReport.Latency.of(h), 0.1, 0.2, 666, "threads", 0.4, 1 << 20, 1 << 20, 1000);
    }
}
