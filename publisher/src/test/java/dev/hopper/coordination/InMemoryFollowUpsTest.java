package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What only the in-memory groups have: their memory bound. The rules are in {@link FollowUpContract}. */
class InMemoryFollowUpsTest {
    private final AtomicLong nanos = new AtomicLong(42);

    @Test
    void expiredGroupsAreSweptAsNewOnesAreWrittenSoMemoryIsBounded() {
        InMemoryFollowUps groups = new InMemoryFollowUps(nanos::get);
        Duration retention = Duration.ofMinutes(1);
        for (int i = 0; i < 2_000; i++) {
            groups.openGroup(new GroupPlan("p" + i, List.of(new GroupPlan.Child("c" + i, "q", "t")), null, retention));
        }
        assertThat(groups.size()).isEqualTo(2_000);

        nanos.addAndGet(retention.plusSeconds(1).toNanos());
        for (int i = 0; i < 1_024; i++) {
            groups.openGroup(new GroupPlan("fresh" + i, List.of(), null, retention));
        }

        assertThat(groups.size()).as("only groups written within one retention are left").isEqualTo(1_024);
    }
}
