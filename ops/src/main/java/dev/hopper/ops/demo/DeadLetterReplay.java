package dev.hopper.ops.demo;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import dev.hopper.publisher.ConfirmedChannel;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueNames;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The demo's replay: takes every dead letter of a queue (unacked, so a crash leaves them in place), then
 * republishes each to its work queue with a broker confirm and only then acks the dead copy: a crash between
 * the two duplicates a task at most, never loses one. The copy is built with {@link EnvelopeCodec#republished}
 * (broker {@code x-death} headers stripped), without the dead-letter headers, with a fresh attempt budget and
 * the replay audit headers. The full operator tool is {@code hopper dlq replay}; this is the plain path the demo
 * needs. Not thread-safe: one channel, one caller.
 */
final class DeadLetterReplay {
    private static final Duration CONFIRM_WAIT = Duration.ofSeconds(10);

    /** A dead letter taken from the queue and not yet acked. */
    record DeadLetter(long deliveryTag, AMQP.BasicProperties props, byte[] body) {
        String messageId() {
            return String.valueOf(props.getMessageId());
        }

        String type() {
            return String.valueOf(props.getType());
        }

        String header(String name) {
            try {
                return HeaderValues.text(props.getHeaders(), name).orElse("");
            } catch (RuntimeException e) {
                return "";
            }
        }
    }

    private final Channel channel;
    private final ConfirmedChannel publisher;
    private final Clock clock;

    DeadLetterReplay(Channel channel, ConfirmedChannel publisher, Clock clock) {
        this.channel = channel;
        this.publisher = publisher;
        this.clock = clock;
    }

    /** Takes every message now in {@code deadQueue}, leaving them unacked. */
    List<DeadLetter> takeAll(String deadQueue) throws IOException {
        List<DeadLetter> out = new ArrayList<>();
        GetResponse r;
        while ((r = channel.basicGet(deadQueue, false)) != null) {
            out.add(new DeadLetter(r.getEnvelope().getDeliveryTag(), r.getProps(), r.getBody()));
        }
        return out;
    }

    /**
     * Republishes {@code d} to {@code workQueue}, waits for the broker's confirm, then acks the dead copy.
     *
     * @throws HopperException when the copy is not confirmed (the dead letter stays in its queue)
     */
    void replay(DeadLetter d, String workQueue) throws IOException, InterruptedException {
        Map<String, @Nullable Object> changes = new HashMap<>();
        for (String h : List.of(Headers.DEAD_REASON, Headers.ERROR_CLASS, Headers.ERROR_MESSAGE, Headers.ERROR_STACK,
                Headers.FAILED_AT, Headers.WORKER, Headers.ORIGIN_QUEUE, Headers.RETRY_REASON,
                Headers.FIRST_ATTEMPT_AT)) {
            changes.put(h, null);
        }
        changes.put(Headers.ATTEMPT, 0);
        int replays;
        try {
            replays = HeaderValues.count(d.props().getHeaders(), Headers.REPLAY_COUNT).orElse(0);
        } catch (HeaderValues.Mistyped e) {
            replays = 0;
        }
        changes.put(Headers.REPLAY_COUNT, replays + 1);
        changes.put(Headers.REPLAYED_AT, clock.instant().toString());
        changes.put(Headers.REPLAYED_BY, replayedBy());
        try {
            publisher.publish(QueueNames.TASKS_EXCHANGE, workQueue, EnvelopeCodec.republished(d.props(), changes),
                    d.body()).get(CONFIRM_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            channel.basicNack(d.deliveryTag(), false, true);
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new HopperException("replaying " + d.messageId() + " to " + workQueue + " was not confirmed ("
                    + cause + "); it stays in the dead-letter queue", cause);
        }
        channel.basicAck(d.deliveryTag(), false);
    }

    static String replayedBy() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        return System.getProperty("user.name", "unknown") + "@" + host;
    }
}
