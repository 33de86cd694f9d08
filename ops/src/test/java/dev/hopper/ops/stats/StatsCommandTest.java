package dev.hopper.ops.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsCommandTest {

    @Test
    void tasksWaitingInDelayTiersAreSummedPerWorkQueue() {
        List<QueueDepths.Depth> depths = List.of(
                new QueueDepths.Depth("mail", "mail", QueueDepths.Kind.WORK, null, 4L, 2),
                new QueueDepths.Depth("mail", "mail.retry.1s", QueueDepths.Kind.RETRY, "1s", 3L, 0),
                new QueueDepths.Depth("mail", "mail.retry.5s", QueueDepths.Kind.RETRY, "5s", 0L, 0),
                new QueueDepths.Depth("mail", "mail.retry.1h", QueueDepths.Kind.RETRY, "1h", 12L, 0),
                new QueueDepths.Depth("mail", "mail.dead", QueueDepths.Kind.DEAD, null, 1L, 0),
                new QueueDepths.Depth("idle", "idle.retry.1s", QueueDepths.Kind.RETRY, "1s", 0L, 0),
                new QueueDepths.Depth("gone", "gone.retry.1s", QueueDepths.Kind.RETRY, "1s", null, null));

        assertThat(StatsCommand.waitingInTiers(depths)).containsExactly(
                "mail: 15 task(s) waiting in delay tiers (retries and delayed tasks; 1s: 3, 1h: 12)");
    }
}
