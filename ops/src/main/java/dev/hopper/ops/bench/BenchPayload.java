package dev.hopper.ops.bench;

/**
 * The JSON body of a benchmark task: a sequence number and padding up to the requested payload size. Workers read
 * it with Jackson like any typed payload, so the cost of decoding is part of what is measured.
 */
record BenchPayload(long seq, String pad) {
    static final String TYPE = "bench";

    /** Padding that makes {@code {"seq":N,"pad":"..."}} about {@code payloadBytes} long for a 6-digit N. */
    static String padFor(int payloadBytes) {
        int overhead = "{\"seq\":123456,\"pad\":\"\"}".length();
        return "x".repeat(Math.max(0, payloadBytes - overhead));
    }
}
