package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes a copy of a delivery (retry, dead letter, hand-back) with a confirm: the future completes when the
 * broker confirmed it and fails when it did not (nack, unroutable return, timeout, channel lost). The worker's is
 * {@code ConfirmedChannel::publish} on its publishing connection; tests use a fake. Thread-safe.
 */
@FunctionalInterface
interface CopyPublisher {
    CompletableFuture<Void> publish(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body);
}
