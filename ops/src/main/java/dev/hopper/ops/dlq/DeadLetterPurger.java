package dev.hopper.ops.dlq;

import static java.util.Objects.requireNonNull;

import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueNames;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes dead letters: {@code hopper dlq purge}. The only way dead letters leave Hopper other than replay;
 * Hopper never evicts them on its own ({@code purge --older-than 7d} is how retention is done). Messages the
 * filter does not select stay in the dead queue in their original order. Each call opens its own channel; use
 * from one thread at a time.
 */
public final class DeadLetterPurger {
    private static final Logger audit = LoggerFactory.getLogger("hopper.audit");

    private final BrokerConnection connection;
    private final Clock clock;
    private final Duration idleTimeout;
    private final String purgedBy;

    /** @param purgedBy who purges, {@code user@host}, for the audit log */
    public DeadLetterPurger(BrokerConnection connection, Clock clock, Duration idleTimeout, String purgedBy) {
        this.connection = requireNonNull(connection, "connection");
        this.clock = requireNonNull(clock, "clock");
        this.idleTimeout = requireNonNull(idleTimeout, "idleTimeout");
        this.purgedBy = requireNonNull(purgedBy, "purgedBy");
    }

    /**
     * Deletes the dead letters of {@code queue} that {@code filter} selects.
     *
     * @return the pass; {@code matched} is the number deleted
     */
    public ScanReport purge(String queue, DlqFilter filter) {
        String deadQueue = QueueNames.deadQueue(queue);
        ScanReport report = filter.selectsAll() ? purgeAll(deadQueue) : purgeSelected(deadQueue, filter);
        audit.info("dlq purge by={} queue={} filter=\"{}\" scanned={} purged={}", purgedBy, queue, filter.describe(),
                report.scanned(), report.matched());
        return report;
    }

    private ScanReport purgeSelected(String deadQueue, DlqFilter filter) {
        Instant now = clock.instant();
        AtomicLong purged = new AtomicLong();
        try (DeadQueueScan scan = DeadQueueScan.open(connection, deadQueue, idleTimeout, DeadQueueScan.MAX_HELD)) {
            DeadQueueScan.Summary s = scan.run((letter, tag) -> {
                if (!filter.matches(letter, now)) {
                    return DeadQueueScan.Step.CONTINUE;
                }
                scan.ack(tag);
                return purged.incrementAndGet() < filter.limit() ? DeadQueueScan.Step.CONTINUE
                        : DeadQueueScan.Step.STOP;
            });
            return ScanReport.of(s, deadQueue, purged.get());
        }
    }

    /** Everything: one queue.purge instead of a pass (the same result, atomically and fast). */
    private ScanReport purgeAll(String deadQueue) {
        var ch = connection.openChannel();
        try {
            try {
                ch.queueDeclarePassive(deadQueue);
            } catch (IOException e) {
                throw new HopperException("dead-letter queue '" + deadQueue + "' does not exist on "
                        + connection.redactedUri() + "; check --queue");
            }
            long n = ch.queuePurge(deadQueue).getMessageCount();
            return new ScanReport(deadQueue, n, n, n, false, DeadQueueScan.MAX_HELD);
        } catch (IOException e) {
            throw new HopperException("cannot purge '" + deadQueue + "': " + e.getMessage(), e);
        } finally {
            try {
                if (ch.isOpen()) {
                    ch.close();
                }
            } catch (IOException | TimeoutException e) {
                // The channel is gone already; nothing to release.
            }
        }
    }
}
