package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import dev.hopper.topology.CoalesceWindow;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HeaderValues;
import dev.hopper.topology.Headers;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.RetryReason;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.TaskSchedule;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The copies of delayed and coalesced tasks: hops, and retries and dead letters of claimed runs, on a fake channel. */
class ScheduledCopiesTest {
    private static final Instant NOW = Instant.parse("2026-12-02T06:00:00Z");
    private static final byte[] OWN = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CLAIMED = "{\"n\":9}".getBytes(StandardCharsets.UTF_8);
    private final FakeBroker broker = new FakeBroker();

    private static AMQP.BasicProperties delivered(TaskSchedule schedule) {
        return EnvelopeCodec.properties(TaskEnvelope.fresh("m-1", "digest", "user:7", null, NOW.minusSeconds(5), OWN),
                schedule);
    }

    @Test
    void aHopGoesToItsTierWithTheNotBeforeAndOneMoreHopAndNothingElseChanged() {
        AMQP.BasicProperties original = delivered(new TaskSchedule(NOW.plusSeconds(40), null, 2, null));

        new RetryRouter(broker).hop("q", original, OWN, new Decision.Hop(DelayTier.parse("30s"), NOW.plusSeconds(50),
                3, 0));

        FakeBroker.Copy copy = broker.copies.get(0);
        assertThat(copy.exchange()).isEmpty();
        assertThat(copy.routingKey()).isEqualTo(QueueNames.retryQueue("q", DelayTier.parse("30s")));
        Map<String, Object> h = copy.props().getHeaders();
        assertThat(TaskSchedule.read(h)).isEqualTo(new TaskSchedule(NOW.plusSeconds(50), null, 3, null));
        assertThat(HeaderValues.count(h, Headers.ATTEMPT)).contains(0);
        assertThat(copy.body()).isEqualTo(OWN);
    }

    @Test
    void aRetryOfAClaimedRunCarriesWhatItClaimedAndNoLongerWaitsForItsNotBefore() {
        CoalesceWindow window = new CoalesceWindow(Duration.ofSeconds(1), Duration.ofSeconds(2));
        AMQP.BasicProperties original = delivered(new TaskSchedule(NOW.minusSeconds(1), window, 2, null));
        CoalescedRun run = new CoalescedRun(CLAIMED, CLAIMED, 41);

        new RetryRouter(broker).retryLater("q", original, OWN, new Decision.RetryLater(DelayTier.parse("5s"),
                RetryReason.ERROR, 1, 0, NOW, new IllegalStateException("boom"), run));

        FakeBroker.Copy copy = broker.copies.get(0);
        assertThat(copy.body()).isEqualTo(CLAIMED);
        assertThat(TaskSchedule.read(copy.props().getHeaders())).isEqualTo(new TaskSchedule(null, window, 0, 41L));
    }

    @Test
    void aDeadClaimedRunCarriesWhatItClaimed() {
        CoalesceWindow window = new CoalesceWindow(Duration.ofSeconds(1), Duration.ofSeconds(2));
        AMQP.BasicProperties original = delivered(new TaskSchedule(null, window, 0, null));
        CoalescedRun run = new CoalescedRun(CLAIMED, CLAIMED, 41);

        new DeadLetterPublisher(broker, Clock.fixed(NOW, ZoneOffset.UTC), "w-1").deadLetter("q", original, OWN,
                Decision.DeadLetter.of(DeadReason.EXHAUSTED, new IllegalStateException("boom"), 3)
                        .withCoalesced(run));

        FakeBroker.Copy copy = broker.copies.get(0);
        assertThat(copy.body()).isEqualTo(CLAIMED);
        assertThat(HeaderValues.whole(copy.props().getHeaders(), Headers.COALESCED)).contains(41L);
        assertThat(HeaderValues.text(copy.props().getHeaders(), Headers.DEAD_REASON)).contains("exhausted");
    }
}
