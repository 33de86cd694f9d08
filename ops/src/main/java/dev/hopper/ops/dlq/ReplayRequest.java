package dev.hopper.ops.dlq;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.QueueNames;
import org.jspecify.annotations.Nullable;

/**
 * What {@link DeadLetterReplayer#replay} should do. Immutable; build with {@link #builder(String)}.
 *
 * @param queue the work queue whose dead queue is read
 * @param filter which dead letters to replay
 * @param to the work queue to send them to; null means each letter's {@code x-hopper-origin-queue}, else
 *     {@code queue}
 * @param resetAttempts start the attempt count over ({@code x-hopper-attempt=0}, no first-attempt time, no lock
 *     waits), so the retry policy gives the task its full budget again
 * @param dryRun select and report, change nothing
 * @param ratePerSecond at most this many replays per second; 0 for no limit
 */
public record ReplayRequest(String queue, DlqFilter filter, @Nullable String to, boolean resetAttempts,
        boolean dryRun, int ratePerSecond) {

    public ReplayRequest {
        QueueNames.checkWorkQueue(requireNonNull(queue, "queue"));
        requireNonNull(filter, "filter");
        if (to != null) {
            QueueNames.checkWorkQueue(to);
        }
        if (ratePerSecond < 0) {
            throw new IllegalArgumentException("rate must be >= 0, was " + ratePerSecond);
        }
    }

    public static Builder builder(String queue) {
        return new Builder(queue);
    }

    /** Builds a {@link ReplayRequest}. Not thread-safe. */
    public static final class Builder {
        private final String queue;
        private DlqFilter filter = DlqFilter.ALL;
        private @Nullable String to;
        private boolean resetAttempts;
        private boolean dryRun;
        private int ratePerSecond;

        private Builder(String queue) {
            this.queue = requireNonNull(queue, "queue");
        }

        public Builder filter(DlqFilter value) {
            this.filter = requireNonNull(value, "filter");
            return this;
        }

        public Builder to(@Nullable String value) {
            this.to = value;
            return this;
        }

        public Builder resetAttempts(boolean value) {
            this.resetAttempts = value;
            return this;
        }

        public Builder dryRun(boolean value) {
            this.dryRun = value;
            return this;
        }

        public Builder ratePerSecond(int value) {
            this.ratePerSecond = value;
            return this;
        }

        public ReplayRequest build() {
            return new ReplayRequest(queue, filter, to, resetAttempts, dryRun, ratePerSecond);
        }
    }
}
