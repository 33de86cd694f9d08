package dev.hopper.consumer;

import com.rabbitmq.client.AMQP;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake of the two broker sides the delivery path talks to: the consuming channel's settlements
 * ({@link SettlementSink}) and the publishing channel's confirmed copies ({@link CopyPublisher}), with one shared
 * log of what happened in which order.
 */
final class FakeBroker implements SettlementSink, CopyPublisher {
    /** How the next copies are answered. */
    enum Confirms { CONFIRM, NACK, THROW }

    record Copy(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {}

    final List<String> log = new CopyOnWriteArrayList<>();
    final List<Copy> copies = new CopyOnWriteArrayList<>();
    final Map<Long, AtomicInteger> settlements = new ConcurrentHashMap<>();
    volatile Confirms confirms = Confirms.CONFIRM;

    @Override
    public void ack(long deliveryTag) {
        settle("ack", deliveryTag);
    }

    @Override
    public void rejectRequeue(long deliveryTag) {
        settle("reject", deliveryTag);
    }

    @Override
    public void nackRequeue(long deliveryTag) {
        settle("nack", deliveryTag);
    }

    private void settle(String what, long tag) {
        settlements.computeIfAbsent(tag, t -> new AtomicInteger()).incrementAndGet();
        log.add(what + " " + tag);
    }

    @Override
    public CompletableFuture<Void> publish(String exchange, String routingKey, AMQP.BasicProperties props,
            byte[] body) {
        if (confirms == Confirms.THROW) {
            throw new IllegalStateException("publisher broken");
        }
        copies.add(new Copy(exchange, routingKey, props, body));
        log.add("publish " + exchange + "/" + routingKey);
        return confirms == Confirms.CONFIRM ? CompletableFuture.completedFuture(null)
                : CompletableFuture.failedFuture(new IllegalStateException("nacked by the broker"));
    }

    int settlementsOf(long tag) {
        AtomicInteger n = settlements.get(tag);
        return n == null ? 0 : n.get();
    }
}
