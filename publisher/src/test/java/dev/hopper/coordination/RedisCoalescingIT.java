package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.CoalesceWindow;
import dev.hopper.topology.testing.TestRedis;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What only the Redis coalescing has: its key layout and self-expiry. The rules are in {@link CoalescingContract}. */
class RedisCoalescingIT {
    private final RedisNamespace namespace = new RedisNamespace(TestRedis.get().uri(), "coalesce");
    private final RedisCoordinationStore store = new RedisCoordinationStore(
            RedisStoreConfig.builder(TestRedis.get().uri()).namespace(namespace.prefix()).build());

    @AfterEach
    void close() {
        store.close();
        namespace.close();
    }

    @Test
    void stateIsOneHashPerKeyThatExpiresOnItsOwn() {
        CoalesceWindow window = new CoalesceWindow(Duration.ofSeconds(30), Duration.ofMinutes(5));
        CoalesceKey key = new CoalesceKey("mail", "digest", "user:7");
        Instant now = Instant.now();
        store.scheduleOrAbsorb(key, "m1", "{\"n\":1}".getBytes(StandardCharsets.UTF_8), window, now);
        store.scheduleOrAbsorb(key, "m2", "{\"n\":2}".getBytes(StandardCharsets.UTF_8), window, now.plusMillis(1));

        String hash = namespace.prefix() + "coalesce:4:mail:6:digest:user:7";
        assertThat(namespace.redis().hgetall(hash)).containsEntry("pid", "m1").containsEntry("payload", "{\"n\":2}")
                .containsEntry("absorbed", "1").containsKey("exp");
        long expected = Math.max(window.maxDelay().toMillis(), CoalescingStore.staleAfter(window).toMillis())
                + CoalescingStore.RETENTION.toMillis();
        assertThat(namespace.redis().pttl(hash)).isPositive().isLessThanOrEqualTo(expected);

        store.claim(key, "m1", window, now.plusMillis(2));
        assertThat(namespace.redis().hgetall(hash)).doesNotContainKeys("pid", "payload")
                .containsEntry("cid", "m1").containsEntry("cpayload", "{\"n\":2}").containsKey("last");
        assertThat(namespace.redis().pttl(hash)).isPositive()
                .isLessThanOrEqualTo(window.maxDelay().plus(CoalescingStore.RETENTION).toMillis());
    }

    @Test
    void unicodePayloadsSurviveTheRoundTrip() {
        CoalesceWindow window = new CoalesceWindow(Duration.ofSeconds(1), Duration.ofSeconds(2));
        CoalesceKey key = new CoalesceKey("mail", "digest", "ключ");
        String payload = "{\"text\":\"héllo ✓ 𝄞\"}";
        Instant now = Instant.now();
        store.scheduleOrAbsorb(key, "m1", payload.getBytes(StandardCharsets.UTF_8), window, now);

        CoalesceClaim c = store.claim(key, "m1", window, now);
        assertThat(new String(((CoalesceClaim.Claimed) c).payload(), StandardCharsets.UTF_8)).isEqualTo(payload);
    }
}
