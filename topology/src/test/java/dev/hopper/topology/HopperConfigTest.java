package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HopperConfigTest {

    @Test
    void aQueueNameAloneGetsEveryDefault() {
        HopperConfig c = HopperConfig.parse("queues: [uploads]");
        QueueSpec q = c.requireQueue("uploads");
        assertThat(q.retry()).isEqualTo(RetryPolicy.DEFAULT);
        assertThat(q.tiers()).extracting(DelayTier::label).containsExactly("5s", "30s", "5m", "1h");
        assertThat(q.deliveryLimit()).isGreaterThan(q.poisonAfter());
        assertThat(q.lock()).isEqualTo(LockSpec.DEFAULT);
        assertThat(c.coordination()).isEqualTo(CoordinationSpec.DEFAULT);
    }

    @Test
    void readsAFullConfigWithDefaultsAndOverrides() {
        HopperConfig c = HopperConfig.parse("""
                defaults:
                  concurrency: 2
                  prefetch: 10
                  lock: {lease: 10s, max-waits: 3, superseded: refresh, wait-in-hand: 0s}
                coordination: {namespace: "app:", done-marker-ttl: 2d, timeout: 500ms}
                queues:
                  uploads:
                    tiers: [1s, 2s]
                    retry: {delays: [1s, 2s], max-attempts: 3, max-age: 1h, permanent-on: [java.lang.IllegalStateException]}
                    concurrency: 8
                    prefetch: 32
                    handler-timeout: 20s
                  webhooks:
                    retry:
                      schedule: [{until: 1h, every: 5m}, {until: 24h, every: 1h}]
                    types:
                      thumbnail:
                        retry: {backoff: {initial: 1s, multiplier: 2, max: 8s, jitter: 0.5}, max-attempts: 4}
                """);
        QueueSpec uploads = c.requireQueue("uploads");
        assertThat(uploads.tiers()).extracting(DelayTier::label).containsExactly("1s", "2s");
        assertThat(uploads.retry().maxAttempts()).isEqualTo(3);
        assertThat(uploads.retry().maxAge()).isEqualTo(Duration.ofHours(1));
        assertThat(uploads.retry().permanentOn()).containsExactly("java.lang.IllegalStateException");
        assertThat(uploads.concurrency()).isEqualTo(8);
        assertThat(uploads.prefetch()).isEqualTo(32);
        assertThat(uploads.handlerTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(uploads.lock()).isEqualTo(new LockSpec(Duration.ofSeconds(10), 3, SupersededPolicy.REFRESH, Duration.ZERO));

        QueueSpec webhooks = c.requireQueue("webhooks");
        assertThat(webhooks.concurrency()).isEqualTo(2);
        assertThat(webhooks.retry().maxAge()).isEqualTo(Duration.ofHours(24));
        // Tiers implied by the schedule and the per-type backoff.
        assertThat(webhooks.tiers()).extracting(DelayTier::label).containsExactly("1s", "2s", "4s", "8s", "5m", "1h");
        assertThat(webhooks.retryFor("thumbnail").backoff()).isNotNull();
        assertThat(webhooks.retryFor("other")).isSameAs(webhooks.retry());
        assertThat(c.coordination()).isEqualTo(new CoordinationSpec("app:", Duration.ofDays(2), Duration.ofMillis(500)));
        assertThat(c.queues().keySet()).containsExactly("uploads", "webhooks");
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "queues: {uploads: {retry: {delays: [5s, 30s, 5 minutes]}}}|queues.uploads.retry.delays[2]: \"5 minutes\" is not a duration like 500ms, 30s, 5m, 1h, 1d",
        "queues: {uploads: {retry: {max_attempts: 3}}}|queues.uploads.retry.max_attempts: unknown setting; expected one of [backoff, delays, max-age, max-attempts, permanent-on, retry-on, schedule]",
        "queues: {uploads: {concurrency: many}}|queues.uploads.concurrency: \"many\" is not a whole number",
        "queues: {uploads: {concurrency: 0}}|queues.uploads.concurrency: must be >= 1, was 0",
        "queues: {uploads: {handler-timeout: 30}}|queues.uploads.handler-timeout: 30 has no unit; write it like 30s, 5m, 1h",
        "queues: {uploads: {handler-timeout: 45m}}|queues.uploads: handler-timeout must be positive and below the broker's consumer_timeout (30m by default), was 45m",
        "queues: {uploads: {delivery-limit: 3, poison-after: 5}}|queues.uploads: delivery-limit (3) must be above poison-after (5) so Hopper dead-letters a crash-looping task before the broker does",
        "queues: {uploads: {lock: {superseded: ignore}}}|queues.uploads.lock.superseded: \"ignore\" is not one of skip, refresh",
        "queues: {uploads: {lock: {wait-in-hand: 2}}}|queues.uploads.lock.wait-in-hand: 2 has no unit; write it like 30s, 5m, 1h",
        "queues: {uploads: {retry: {delays: [5s], schedule: [{until: 1h, every: 5m}]}}}|queues.uploads.retry: a retry policy needs exactly one of delays, schedule or backoff",
        "queues: {uploads: {retry: {schedule: [{until: 1h}]}}}|queues.uploads.retry.schedule[0]: a schedule step needs both 'until' and 'every'",
        "queues: {uploads: {tiers: []}}|queues.uploads.tiers: at least one tier is required",
        "queues: {uploads: {breaker: {failure_rate: 50}}}|queues.uploads.breaker.failure_rate: unknown setting; expected one of [failure-rate, half-open-calls, minimum-calls, wait, window]",
        "queues: {uploads: {breaker: {failure-rate: 150}}}|queues.uploads.breaker: breaker failure-rate must be a percentage between 1 and 100, was 150",
        "queues: {uploads: {breaker: {minimum-calls: 10, window: 5}}}|queues.uploads.breaker: breaker window (5) must be >= minimum-calls (10) or the failure rate is never evaluated",
        "queues: {uploads: {breaker: {wait: 30}}}|queues.uploads.breaker.wait: 30 has no unit; write it like 30s, 5m, 1h",
        "queues: {uploads: {breaker: {half-open-calls: 0}}}|queues.uploads.breaker.half-open-calls: must be >= 1, was 0",
        "queues: {uploads: {breaker: 3}}|queues.uploads.breaker: expected a map of settings, or true / false",
        "{defaults: {breaker: {window: lots}}, queues: [uploads]}|defaults.breaker.window: \"lots\" is not a whole number",
        "queues: {uploads: {rate-limit: 0}}|queues.uploads.rate-limit: must be >= 1, was 0",
        "queues: {uploads: {rate-limit: 2.5}}|queues.uploads.rate-limit: \"2.5\" is not a whole number",
        "queues: {uploads.dead: {}}|queues.uploads.dead: 'uploads.dead' looks like a retry or dead queue; name the work queue itself",
        "queues: []|queues: at least one queue is required",
        "queue: [uploads]|2 problems: queue: unknown setting; expected one of [coordination, defaults, queues]; queues: at least one queue is required",
        "{defaults: {prefetch: -1}, queues: [a]}|defaults.prefetch: must be >= 1, was -1",
        "queues: {uploads: {retry: {permanent-on: [not-a-class]}}}|queues.uploads.retry.permanent-on[0]: \"not-a-class\" is not a class name",
        "queues: {uploads: {dead: {retention: 7}}}|queues.uploads.dead.retention: 7 has no unit; write it like 30s, 5m, 1h",
        "queues: {uploads: {dead: {retention: 30d}}}|queues.uploads.dead.retention: must be between 1ms and 24d (the broker's x-message-ttl is a 32-bit millisecond count), was 30d",
        "queues: {uploads: {dead: {keep: 7d}}}|queues.uploads.dead.keep: unknown setting; expected one of [retention]",
    })
    void invalidValuesAreReportedWithTheirPath(String yaml, String message) {
        assertThatThrownBy(() -> HopperConfig.parse(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }

    @Test
    void emptyOrBrokenYamlIsAConfigError() {
        assertThatThrownBy(() -> HopperConfig.parse("")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> HopperConfig.parse("queues: [a")).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("not valid YAML");
    }

    @Test
    void missingFileNamesTheFile() {
        assertThatThrownBy(() -> HopperConfig.load(java.nio.file.Path.of("/nonexistent/hopper.yml")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config file /nonexistent/hopper.yml does not exist");
    }

    @Test
    void scheduleImpliesItsAgeLimitAndTiers() {
        RetryPolicy p = RetryPolicy.RETRY_FOR_A_DAY;
        assertThat(p.maxAge()).isEqualTo(Duration.ofHours(24));
        assertThat(p.impliedTiers()).extracting(DelayTier::label).containsExactly("5m", "1h");
        assertThat(p.scheduledDelay(Duration.ofMinutes(30))).contains(Duration.ofMinutes(5));
        assertThat(p.scheduledDelay(Duration.ofMinutes(61))).contains(Duration.ofHours(1));
        assertThat(p.scheduledDelay(Duration.ofHours(24).plusMinutes(1))).isEmpty();
    }

    @Test
    void breakerAndRateLimitAreOffUnlessConfigured() {
        HopperConfig c = HopperConfig.parse("""
                defaults:
                  breaker: {}
                queues:
                  plain: {breaker: false}
                  switched: {breaker: true}
                  tuned:
                    breaker: {failure-rate: 25, minimum-calls: 4, window: 8, wait: 2s, half-open-calls: 2}
                    rate-limit: 20
                  defaulted: {}
                """);
        assertThat(c.requireQueue("defaulted").breaker()).isEqualTo(BreakerSpec.DEFAULT);
        assertThat(c.requireQueue("switched").breaker()).isEqualTo(BreakerSpec.DEFAULT);
        assertThat(c.requireQueue("plain").breaker()).isNull();
        assertThat(c.requireQueue("defaulted").rateLimit()).isZero();
        assertThat(c.requireQueue("tuned").breaker())
                .isEqualTo(new BreakerSpec(25, 4, 8, Duration.ofSeconds(2), 2));
        assertThat(c.requireQueue("tuned").rateLimit()).isEqualTo(20);
        assertThat(c.requireQueue("tuned").toBuilder().build()).isEqualTo(c.requireQueue("tuned"));
        assertThat(HopperConfig.parse("queues: [q]").requireQueue("q").breaker()).isNull();
        // A minimum above the default window widens the window rather than failing.
        assertThat(HopperConfig.parse("queues: {q: {breaker: {minimum-calls: 80}}}").requireQueue("q").breaker()
                .window()).isEqualTo(80);
    }

    @Test
    void queueSpecRejectsConflictingSettings() {
        assertThatThrownBy(() -> QueueSpec.builder("q").concurrency(8).prefetch(4).build())
                .hasMessageContaining("prefetch (4) must be >= concurrency (8)");
        assertThatThrownBy(() -> HopperConfig.of(List.of(QueueSpec.builder("q").build(), QueueSpec.builder("q").build())))
                .hasMessageContaining("listed twice");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        String yaml = """
                coordination: {timeout: soon}
                queues:
                  uploads: {concurrency: 0, retry: {max_attempts: 3, delays: [5 minutes]}, colour: blue}
                  hooks: {handler-timeout: 30}
                """;
        assertThatThrownBy(() -> HopperConfig.parse(yaml))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .extracting(Throwable::getMessage)
                        .containsExactlyInAnyOrder(
                                "coordination.timeout: \"soon\" is not a duration like 500ms, 30s, 5m, 1h, 1d",
                                "queues.uploads.colour: unknown setting; expected one of [breaker, concurrency, dead, "
                                        + "delivery-limit, handler-timeout, lock, max-body-bytes, poison-after, "
                                        + "prefetch, quorum-initial-group-size, rate-limit, retry, tiers, types]",
                                "queues.uploads.concurrency: must be >= 1, was 0",
                                "queues.uploads.retry.max_attempts: unknown setting; expected one of [backoff, delays, "
                                        + "max-age, max-attempts, permanent-on, retry-on, schedule]",
                                "queues.uploads.retry.delays[0]: \"5 minutes\" is not a duration like 500ms, 30s, 5m, "
                                        + "1h, 1d",
                                "queues.hooks.handler-timeout: 30 has no unit; write it like 30s, 5m, 1h"))
                .hasMessageStartingWith("6 problems: ");
    }

    @Test
    void aBadDefaultIsReportedOnceNotPerQueue() {
        assertThatThrownBy(() -> HopperConfig.parse("{defaults: {prefetch: -1}, queues: [a, b, c]}"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).hasSize(1))
                .hasMessage("defaults.prefetch: must be >= 1, was -1");
    }

    @Test
    void deadRetentionBecomesTheDeadQueuesMessageTtl() {
        HopperConfig c = HopperConfig.parse("{defaults: {dead: {retention: 7d}}, queues: {a: {}, b: {dead: {retention: 12h}}, c: {dead: null}}}");
        assertThat(c.requireQueue("a").deadRetention()).isEqualTo(Duration.ofDays(7));
        assertThat(c.requireQueue("b").deadRetention()).isEqualTo(Duration.ofHours(12));
        assertThat(c.requireQueue("c").deadRetention()).isNull();
        assertThat(Topology.deadQueueArguments(c.requireQueue("a")))
                .containsEntry("x-message-ttl", Duration.ofDays(7).toMillis());
        assertThat(Topology.deadQueueArguments(HopperConfig.parse("queues: [q]").requireQueue("q")))
                .doesNotContainKey("x-message-ttl");
        assertThat(c.requireQueue("b").toBuilder().build()).isEqualTo(c.requireQueue("b"));
    }
}
