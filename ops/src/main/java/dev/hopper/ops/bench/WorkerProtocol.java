package dev.hopper.ops.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.topology.HopperException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * What a worker JVM ({@link BenchWorkerMain}) tells the benchmark, one line each on its standard output (logs go to
 * standard error; other lines are ignored): {@code hopper-bench ready} once it consumes, {@code hopper-bench
 * progress N} when its completion count changed (at most every 100 ms), {@code hopper-bench ready} again after
 * {@code reset} arrives on its standard input (it forgot the warm-up), and after {@code stop} arrives,
 * {@code hopper-bench result {json}} with a {@link Result}.
 */
final class WorkerProtocol {
    static final String PREFIX = "hopper-bench ";
    static final String READY = "ready";
    static final String PROGRESS = "progress";
    static final String RESULT = "result";
    static final String STOP = "stop";
    static final String RESET = "reset";

    private static final ObjectMapper JSON = new ObjectMapper();

    private WorkerProtocol() {}

    /**
     * A worker JVM's measurements.
     *
     * Histograms (microseconds) travel as HdrHistogram's compressed encoding in Base64.
     *
     * @param histogram the end-to-end latencies
     * @param handlerHistogram the handler run times
     * @param lockCheckHistogram the lock and revision checks (empty in unkeyed runs)
     * @param cpuNanos the JVM's process CPU time from ready to stop
     */
    record Result(long completed, Map<String, Long> otherOutcomes, String histogram, String handlerHistogram,
            String lockCheckHistogram, long cpuNanos, long heapStartBytes, long heapEndBytes,
            long lastCompletionMicros) {

        static Result of(CompletionTracker t, long cpuNanos, long heapStart, long heapEnd) {
            RunHistograms h = t.histograms();
            return new Result(t.completed(), t.otherOutcomes(), encode(h.endToEnd()), encode(h.handler()),
                    encode(h.lockCheck()), cpuNanos, heapStart, heapEnd, t.lastCompletionMicros());
        }

        Histogram latencies() {
            return decode(histogram, "latency");
        }

        RunHistograms histograms() {
            return new RunHistograms(latencies(), decode(handlerHistogram, "handler"),
                    decode(lockCheckHistogram, "lock check"));
        }

        private static String encode(Histogram h) {
            ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
            int n = h.encodeIntoCompressedByteBuffer(buf);
            return Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), n));
        }

        private static Histogram decode(@Nullable String encoded, String what) {
            if (encoded == null) {
                throw new HopperException("a worker JVM sent no " + what + " histogram: is it the same hopper.jar?");
            }
            try {
                return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(encoded)),
                        0);
            } catch (java.util.zip.DataFormatException | IllegalArgumentException e) {
                throw new HopperException("a worker JVM sent a " + what + " histogram that does not decode: " + e, e);
            }
        }
    }

    static String resultLine(Result r) {
        try {
            return PREFIX + RESULT + " " + JSON.writeValueAsString(r);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a worker result", e);
        }
    }

    /** The parsed result of a {@code result} line's JSON. */
    static Result parseResult(String json) {
        try {
            return JSON.readValue(json, Result.class);
        } catch (JsonProcessingException e) {
            throw new HopperException("a worker JVM sent a result that does not parse: " + e.getOriginalMessage(), e);
        }
    }

    /** The message of a protocol line without its prefix, or null for any other line. */
    static @Nullable String message(String line) {
        return line.startsWith(PREFIX) ? line.substring(PREFIX.length()) : null;
    }
}
