/**
 * Dead-letter tools without a command line: reading a dead queue without losing or reordering anything
 * ({@link dev.hopper.ops.dlq.DeadLetterBrowser}), replaying with publish-confirm-then-ack
 * ({@link dev.hopper.ops.dlq.DeadLetterReplayer}), purging ({@link dev.hopper.ops.dlq.DeadLetterPurger}),
 * exporting and importing JSON lines ({@link dev.hopper.ops.dlq.DeadLetterJson},
 * {@link dev.hopper.ops.dlq.DeadLetterImporter}), and grouping by failure ({@link dev.hopper.ops.dlq.DeadLetterGroups}).
 * Selections are {@link dev.hopper.ops.dlq.DlqFilter} records.
 *
 * <p>How a dead queue is read: one dedicated channel consumes it with manual acknowledgement and holds every
 * delivery unacknowledged; only messages that are replayed (after the broker confirmed their copy) or purged
 * are acknowledged. Closing the channel hands every other message back to the quorum queue, which puts them back
 * at its head in their original order (verified against RabbitMQ 3.10 by {@code DeadQueueOrderIT}). A crash or
 * {@code kill -9} closes the channel the same way, so a reader can duplicate (a copy confirmed but its dead letter
 * not yet acknowledged) but never lose a message. Each hand-back increments the quorum queue's
 * {@code x-delivery-count}; dead queues have no delivery limit, and replay strips that header.
 */
@NullMarked
package dev.hopper.ops.dlq;

import org.jspecify.annotations.NullMarked;
