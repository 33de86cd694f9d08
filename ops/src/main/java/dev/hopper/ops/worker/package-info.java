/**
 * {@code hopper worker}: runs a {@link dev.hopper.consumer.Worker} for one or more queues with a handler chosen
 * on the command line (a command per task, a webhook, a built-in, or handlers from a user's jar through
 * {@link dev.hopper.ops.worker.HandlerProvider}).
 */
@NullMarked
package dev.hopper.ops.worker;

import org.jspecify.annotations.NullMarked;
