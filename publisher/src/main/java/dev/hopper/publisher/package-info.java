/**
 * Connections to RabbitMQ and publishing that loses nothing: every publish is persistent, mandatory and
 * confirmed, and its future says whether the broker has it. {@link dev.hopper.publisher.TaskPublisher} is the
 * entry type for producers; {@link dev.hopper.publisher.BrokerConnection} and
 * {@link dev.hopper.publisher.ConfirmedChannel} are the building blocks workers and tools share.
 */
@NullMarked
package dev.hopper.publisher;

import org.jspecify.annotations.NullMarked;
