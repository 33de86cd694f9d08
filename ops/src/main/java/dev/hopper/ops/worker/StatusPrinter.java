package dev.hopper.ops.worker;

import dev.hopper.ops.cli.Output;
import dev.hopper.topology.DurationText;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What {@code hopper worker} says about itself: started, status, stopping, stopped. As text, one
 * {@code hopper worker: ...} line on stderr each (stdout stays free for handlers' output); under {@code --json},
 * one JSON object per event on stdout with an {@code event} field. Thread-safe (the shutdown hook and the status
 * ticker print from their own threads).
 */
final class StatusPrinter {
    private final PrintWriter err;
    private final @Nullable Output json;

    /** @param json the JSON-lines output under {@code --json}, else null for text on {@code err} */
    StatusPrinter(PrintWriter err, @Nullable Output json) {
        this.err = err;
        this.json = json;
    }

    synchronized void started(List<String> queues, String broker, String handler, String store,
            @Nullable String metricsUrl) {
        if (json != null) {
            Map<String, Object> m = event("started");
            m.put("queues", queues);
            m.put("broker", broker);
            m.put("handler", handler);
            m.put("store", store);
            m.put("metrics", metricsUrl);
            json.record(m);
            return;
        }
        text("consuming " + String.join(", ", queues) + " on " + broker + " with " + handler + " and " + store
                + (metricsUrl == null ? "" : "; metrics on " + metricsUrl + " and /health")
                + "; SIGTERM or Ctrl-C drains and stops");
    }

    synchronized void status(StatusLine status, int inFlight) {
        if (json != null) {
            Map<String, Object> m = event("status");
            m.putAll(status.fields(inFlight));
            json.record(m);
            return;
        }
        text(status.render(inFlight));
    }

    synchronized void stopping(Duration drainTimeout) {
        if (json != null) {
            Map<String, Object> m = event("stopping");
            m.put("drain_timeout", DurationText.format(drainTimeout));
            json.record(m);
            return;
        }
        text("stopping; letting running tasks finish (up to " + DurationText.format(drainTimeout) + ")");
    }

    synchronized void stopped(StatusLine status, int inFlight, boolean drainTimedOut) {
        if (json != null) {
            Map<String, Object> m = event("stopped");
            m.putAll(status.fields(inFlight));
            m.put("drain_timed_out", drainTimedOut);
            json.record(m);
            return;
        }
        text("stopped; " + status.render(inFlight)
                + (drainTimedOut ? "; the drain timed out: running tasks were stopped and go back to the queue" : ""));
    }

    private void text(String line) {
        err.println("hopper worker: " + line);
        err.flush();
    }

    private static Map<String, Object> event(String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", name);
        return m;
    }
}
