package dev.hopper.ops.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/** Prints a {@link BenchReport}: a readable table, or one JSON object on one line ({@code --json}). */
interface ReportWriter {
    void write(BenchReport report, PrintWriter out);

    static ReportWriter forJson(boolean json) {
        return json ? new Json() : new Table();
    }

    /** One JSON object per run, on one line. */
    final class Json implements ReportWriter {
        private final ObjectMapper mapper = new ObjectMapper();

        @Override
        public void write(BenchReport report, PrintWriter out) {
            try {
                out.println(mapper.writeValueAsString(report));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot encode the bench report", e);
            }
            out.flush();
        }
    }

    /** Two columns: what, and the numbers. */
    final class Table implements ReportWriter {
        @Override
        public void write(BenchReport r, PrintWriter out) {
            StringBuilder cfg = new StringBuilder();
            for (Map.Entry<String, Object> e : r.config().entrySet()) {
                cfg.append(cfg.length() == 0 ? "" : " ").append(e.getKey()).append('=').append(e.getValue());
            }
            row(out, "hopper bench", "queue " + r.queue() + " (deleted)");
            row(out, "configuration", cfg.toString());
            row(out, "published", String.format(Locale.ROOT, "%d confirmed, %d failed, %.0f/s over %.2fs (%d-byte "
                    + "bodies)", r.published(), r.publishFailures(), r.publishRate(), r.publishSeconds(),
                    r.bodyBytes()));
            if (r.firstPublishFailure() != null) {
                row(out, "first failure", r.firstPublishFailure());
            }
            row(out, "completed", String.format(Locale.ROOT, "%d, %.0f/s (first publish to last completion %.2fs)",
                    r.completed(), r.completionRate(), r.completionSeconds()));
            if (!r.otherOutcomes().isEmpty()) {
                row(out, "other outcomes", r.otherOutcomes().toString());
            }
            BenchReport.Latency l = r.latency();
            row(out, "latency (ms)", String.format(Locale.ROOT, "p50 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  "
                    + "mean %.2f  (publish to handler end)", l.p50Ms(), l.p95Ms(), l.p99Ms(), l.p999Ms(), l.maxMs(),
                    l.meanMs()));
            row(out, "handler (ms)", split(r.handler(), "handler run time"));
            if (r.lockCheck().count() > 0) {
                row(out, "lock check (ms)", split(r.lockCheck(), "lock + revision check: store call sent to "
                        + "answered, " + r.lockCheck().count() + " checks"));
            }
            if (r.storePing().count() > 0) {
                row(out, "store ping (ms)", split(r.storePing(), "bare Redis PING beside the run, every "
                        + StorePingProbe.INTERVAL.toMillis() + " ms: this machine's round trip, "
                        + r.storePing().count() + " pings"));
            }
            row(out, "cpu (s)", String.format(Locale.ROOT, "publisher %.2f  worker %.2f (%.1f us/task)  [%s]; "
                    + "bench JVM %.2f", r.publisherCpuSeconds(), r.workerCpuSeconds(), r.workerCpuMicrosPerTask(),
                    r.cpuSource(), r.processCpuSeconds()));
            row(out, "heap after GC", String.format(Locale.ROOT, "start %.1f MiB, end %.1f MiB", mib(r.heapStartBytes()),
                    mib(r.heapEndBytes())));
            row(out, "result", r.clean() ? "ok: published == completed" : "NOT CLEAN: see the counts above");
            out.flush();
        }

        /** Microsecond resolution: a local lock check or a noop handler is well under 0.01 ms. */
        private static String split(BenchReport.Latency l, String what) {
            return String.format(Locale.ROOT, "p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  mean %.3f  (%s)", l.p50Ms(),
                    l.p95Ms(), l.p99Ms(), l.maxMs(), l.meanMs(), what);
        }

        private static void row(PrintWriter out, String what, String value) {
            out.printf(Locale.ROOT, "%-15s %s%n", what, value);
        }

        private static double mib(long bytes) {
            return bytes / (1024.0 * 1024.0);
        }
    }
}
