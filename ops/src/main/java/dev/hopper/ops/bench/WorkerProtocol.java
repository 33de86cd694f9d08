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
     * @param histogram the latencies (microseconds) as HdrHistogram's compressed encoding, Base64
     * @param cpuNanos the JVM's process CPU time from ready to stop
     */
    record Result(long completed, Map<String, Long> otherOutcomes, String histogram, long cpuNanos,
            long heapStartBytes, long heapEndBytes, long lastCompletionMicros) {

        static Result of(CompletionTracker t, long cpuNanos, long heapStart, long heapEnd) {
            Histogram h = t.latencies();
            ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
            int n = h.encodeIntoCompressedByteBuffer(buf);
            String encoded = Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), n));
            return new Result(t.completed(), t.otherOutcomes(), encoded, cpuNanos, heapStart, heapEnd,
                    t.lastCompletionMicros());
        }

        Histogram latencies() {
            try {
                return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(histogram)),
                        0);
            } catch (java.util.zip.DataFormatException | IllegalArgumentException e) {
                throw new HopperException("a worker JVM sent a latency histogram that does not decode: " + e, e);
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
