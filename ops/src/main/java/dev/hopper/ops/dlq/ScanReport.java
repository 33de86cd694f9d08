package dev.hopper.ops.dlq;

import java.util.Optional;

/**
 * What a pass over a dead queue saw.
 *
 * @param deadQueue the queue read, e.g. {@code uploads.dead}
 * @param depth ready messages when the pass started
 * @param scanned messages examined (fewer than {@code depth} when a limit was reached or the pass was cut short)
 * @param matched messages that met the filter
 * @param windowFull true when the pass stopped because it held back as many messages as it may
 *     ({@code maxHeld}); messages deeper in the queue were not examined
 * @param maxHeld how many messages the pass could hold back at once (the largest AMQP prefetch, 65535)
 */
public record ScanReport(String deadQueue, long depth, long scanned, long matched, boolean windowFull,
        int maxHeld) {

    static ScanReport of(DeadQueueScan.Summary s, String deadQueue, long matched) {
        return new ScanReport(deadQueue, s.depth(), s.scanned(), matched, s.windowFull(), s.maxHeld());
    }

    /** A warning for the operator when not every message could be examined, else empty. */
    public Optional<String> warning() {
        if (!windowFull) {
            return Optional.empty();
        }
        return Optional.of("only the first " + scanned + " of " + depth + " dead letters in '" + deadQueue
                + "' were examined: a pass can hold back at most " + maxHeld
                + " messages; narrow the filter or replay/purge matching ones first");
    }
}
