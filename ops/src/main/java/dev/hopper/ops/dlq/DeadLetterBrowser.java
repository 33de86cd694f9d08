package dev.hopper.ops.dlq;

import static java.util.Objects.requireNonNull;

import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.QueueNames;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Reads dead letters without changing the dead queue: every message is handed back, in its original order,
 * when the pass ends (or the process dies). Backs {@code hopper dlq list|show|export|groups}. Each call opens its
 * own channel; safe to use from one thread at a time.
 */
public final class DeadLetterBrowser {
    private final BrokerConnection connection;
    private final Clock clock;
    private final Duration idleTimeout;

    /** @param idleTimeout how long a pass waits for the next delivery before ending */
    public DeadLetterBrowser(BrokerConnection connection, Clock clock, Duration idleTimeout) {
        this.connection = requireNonNull(connection, "connection");
        this.clock = requireNonNull(clock, "clock");
        this.idleTimeout = requireNonNull(idleTimeout, "idleTimeout");
    }

    /**
     * Hands {@code sink} every dead letter of {@code queue}'s dead queue that matches {@code filter}, in queue
     * order, up to the filter's limit; then puts everything back.
     *
     * @param queue the work queue (its dead queue is read)
     */
    public ScanReport browse(String queue, DlqFilter filter, Consumer<DeadLetter> sink) {
        String deadQueue = QueueNames.deadQueue(queue);
        Instant now = clock.instant();
        AtomicLong matched = new AtomicLong();
        try (DeadQueueScan scan = DeadQueueScan.open(connection, deadQueue, idleTimeout, DeadQueueScan.MAX_HELD)) {
            DeadQueueScan.Summary s = scan.run((letter, tag) -> {
                if (!filter.matches(letter, now)) {
                    return DeadQueueScan.Step.CONTINUE;
                }
                sink.accept(letter);
                return matched.incrementAndGet() < filter.limit() ? DeadQueueScan.Step.CONTINUE
                        : DeadQueueScan.Step.STOP;
            });
            return ScanReport.of(s, deadQueue, matched.get());
        }
    }

    /** The first dead letter with this message id, if the dead queue holds one; leaves the queue as it was. */
    public Optional<DeadLetter> find(String queue, String messageId) {
        AtomicReference<DeadLetter> found = new AtomicReference<>();
        browse(queue, DlqFilter.builder().id(messageId).limit(1).build(), found::set);
        return Optional.ofNullable(found.get());
    }
}
