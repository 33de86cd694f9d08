package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.RetryReason;
import dev.hopper.topology.TaskEnvelope;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@link RetryRouter} and {@link DeadLetterPublisher} publish, on a fake channel. */
class CopyHeadersTest {
    private static final Instant NOW = Instant.parse("2026-12-02T05:00:00Z");
    private final FakeBroker broker = new FakeBroker();

    private static AMQP.BasicProperties delivered() {
        TaskEnvelope env = TaskEnvelope.fresh("m-1", "job", "K", 4L, NOW.minusSeconds(60),
                "{}".getBytes(StandardCharsets.UTF_8));
        AMQP.BasicProperties p = EnvelopeCodec.properties(env);
        Map<String, Object> h = new HashMap<>(p.getHeaders());
        h.put("x-death", List.of(Map.of("count", 1L)));
        h.put("x-first-death-queue", "q");
        h.put(Headers.ATTEMPT, 2);
        return p.builder().headers(h).build();
    }

    @Test
    void aRetryCopyGoesToItsTierWithTheNextAttemptAndWithoutTheBrokersHeaders() {
        AMQP.BasicProperties original = delivered();
        new RetryRouter(broker).retryLater("q", original, new byte[] {'{', '}'}, new Decision.RetryLater(
                DelayTier.parse("30s"), RetryReason.ERROR, 3, 0, NOW, new IllegalStateException("boom")));

        FakeBroker.Copy copy = broker.copies.get(0);
        assertThat(copy.exchange()).isEmpty();
        assertThat(copy.routingKey()).isEqualTo(QueueNames.retryQueue("q", DelayTier.parse("30s")));
        Map<String, Object> h = copy.props().getHeaders();
        assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(3);
        assertThat(HeaderValues.text(h, Headers.RETRY_REASON)).contains("error");
        assertThat(HeaderValues.instant(h, Headers.FIRST_ATTEMPT_AT)).contains(NOW);
        assertThat(HeaderValues.text(h, Headers.ERROR_CLASS)).contains("java.lang.IllegalStateException");
        assertThat(h).doesNotContainKeys("x-death", "x-first-death-queue", Headers.LOCK_WAITS);
        assertThat(copy.props().getMessageId()).isEqualTo("m-1");
        assertThat(copy.props().getDeliveryMode()).isEqualTo(2);
        assertThat(original.getHeaders()).as("the delivery is never modified").containsKey("x-death")
                .containsEntry(Headers.ATTEMPT, 2);
    }

    @Test
    void aLockWaitKeepsTheAttemptAndTheFirstAttemptTimeAndCountsTheWait() {
        new RetryRouter(broker).retryLater("q", delivered(), new byte[0], new Decision.RetryLater(
                DelayTier.parse("5s"), RetryReason.LOCK_BUSY, 2, 1, null, null));

        Map<String, Object> h = broker.copies.get(0).props().getHeaders();
        assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(2);
        assertThat(HeaderValues.count(h, Headers.LOCK_WAITS)).contains(1);
        assertThat(h).doesNotContainKeys(Headers.FIRST_ATTEMPT_AT, Headers.ERROR_CLASS);
    }

    @Test
    void aHandBackIsAnUnchangedCopyForTheWorkQueueWithoutTheBrokersHeaders() {
        new RetryRouter(broker).handBack("q", delivered(), new byte[0]);

        FakeBroker.Copy copy = broker.copies.get(0);
        assertThat(copy.exchange()).isEqualTo(QueueNames.TASKS_EXCHANGE);
        assertThat(copy.routingKey()).isEqualTo("q");
        assertThat(HeaderValues.count(copy.props().getHeaders(), Headers.ATTEMPT)).contains(2);
        assertThat(copy.props().getHeaders()).doesNotContainKeys("x-death", Headers.RETRY_REASON);
    }

    @Test
    void aDeadLetterCarriesReasonErrorWhenAndWhere() {
        new DeadLetterPublisher(broker, Clock.fixed(NOW, ZoneOffset.UTC), "worker-7").deadLetter("q", delivered(),
                new byte[0], Decision.DeadLetter.of(DeadReason.EXHAUSTED, new IllegalStateException("boom"), 3));

        FakeBroker.Copy copy = broker.copies.get(0);
        assertThat(copy.exchange()).isEqualTo(QueueNames.DEAD_EXCHANGE);
        assertThat(copy.routingKey()).isEqualTo("q");
        Map<String, Object> h = copy.props().getHeaders();
        assertThat(HeaderValues.text(h, Headers.DEAD_REASON)).contains("exhausted");
        assertThat(HeaderValues.text(h, Headers.ERROR_MESSAGE)).contains("boom");
        assertThat(HeaderValues.text(h, Headers.ERROR_STACK).orElseThrow())
                .startsWith("java.lang.IllegalStateException: boom");
        assertThat(HeaderValues.instant(h, Headers.FAILED_AT)).contains(NOW);
        assertThat(HeaderValues.text(h, Headers.WORKER)).contains("worker-7");
        assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(3);
        assertThat(h).doesNotContainKeys("x-death", "x-first-death-queue");
    }

    @Test
    void unreadableInputIsDeadLetteredWithItsHeadersAsTheyArrived() {
        new DeadLetterPublisher(broker, Clock.fixed(NOW, ZoneOffset.UTC), "w").deadLetter("q", null, new byte[0],
                Decision.DeadLetter.of(DeadReason.MALFORMED, "no message properties", null));

        Map<String, Object> h = broker.copies.get(0).props().getHeaders();
        assertThat(HeaderValues.text(h, Headers.DEAD_REASON)).contains("malformed");
        assertThat(h).doesNotContainKey(Headers.ATTEMPT);
        assertThat(broker.copies.get(0).props().getDeliveryMode()).isEqualTo(2);
    }
}
