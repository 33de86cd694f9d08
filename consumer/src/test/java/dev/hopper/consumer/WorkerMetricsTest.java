package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.BreakerSpec;
import dev.hopper.topology.QueueSpec;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WorkerMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, new MockClock());
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger laneWaiting = new AtomicInteger();
    private final QueueSpec uploads = QueueSpec.builder("uploads").handlerTimeout(Duration.ofSeconds(20))
            .breaker(BreakerSpec.DEFAULT).build();
    private final QueueSpec mail = QueueSpec.builder("mail").build();
    private final WorkerMetrics metrics = new WorkerMetrics(List.of(uploads, mail), List.of("resize", "send"),
            inFlight::get, laneWaiting::get);

    private static WorkerListener.Settled ran(String queue, String type, Outcome o, int attempts) {
        return new WorkerListener.Settled(queue, type, o, reasonOf(o), Duration.ofMillis(100), Duration.ofSeconds(2),
                attempts);
    }

    private static WorkerListener.Settled unrun(String queue, String type, Outcome o, int attempts) {
        return new WorkerListener.Settled(queue, type, o, reasonOf(o), null, null, attempts);
    }

    /** A typical reason for each outcome. */
    private static String reasonOf(Outcome o) {
        return switch (o) {
            case RETRIED -> "error";
            case LOCK_BUSY -> "lock-busy";
            case DEAD -> "exhausted";
            case RETURNED -> "shutdown";
            default -> WorkerListener.Settled.NO_REASON;
        };
    }

    /** Summed over reasons. */
    private double processed(String queue, String type, String outcome) {
        return registry.get(WorkerMetrics.PROCESSED).tags("queue", queue, "type", type, "outcome", outcome)
                .counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    @Test
    void countsEverySettlementByQueueTypeAndOutcome() {
        metrics.bindTo(registry);
        List.of(ran("uploads", "resize", Outcome.SUCCESS, 1), ran("uploads", "resize", Outcome.SUCCESS, 3),
                ran("uploads", "resize", Outcome.RETRIED, 1), ran("uploads", "resize", Outcome.RETRIED, 2),
                ran("uploads", "resize", Outcome.DEAD, 4), unrun("uploads", "unknown", Outcome.DEAD, 0),
                unrun("uploads", "resize", Outcome.SUPERSEDED, 0), unrun("uploads", "resize", Outcome.LOCK_BUSY, 0),
                unrun("uploads", "resize", Outcome.DUPLICATE, 1), unrun("uploads", "unknown", Outcome.RETURNED, 0),
                ran("mail", "send", Outcome.SUCCESS, 1),
                // Types arrive bounded (TypeTags): one without a handler comes as "unknown".
                unrun("mail", "unknown", Outcome.DEAD, 0))
                .forEach(metrics::onSettled);

        assertThat(processed("uploads", "resize", "success")).isEqualTo(2);
        assertThat(processed("uploads", "resize", "retried")).isEqualTo(2);
        assertThat(processed("uploads", "resize", "dead")).isEqualTo(1);
        assertThat(processed("uploads", "unknown", "dead")).isEqualTo(1);
        assertThat(processed("uploads", "resize", "superseded")).isEqualTo(1);
        assertThat(processed("uploads", "resize", "lock_busy")).isEqualTo(1);
        assertThat(processed("uploads", "resize", "duplicate")).isEqualTo(1);
        assertThat(processed("uploads", "unknown", "returned")).isEqualTo(1);
        assertThat(processed("mail", "send", "success")).isEqualTo(1);
        assertThat(processed("mail", "unknown", "dead")).isEqualTo(1);
        assertThat(processed("mail", "send", "retried")).isZero(); // pre-created at zero
        assertThat(registry.get(WorkerMetrics.PROCESSED).counters()).extracting(c -> c.getId().getTag("type"))
                .containsOnly("resize", "send", "unknown");
        // queues x (2 types + unknown) x (each outcome's reasons), nothing else.
        int reasons = WorkerMetrics.REASONS.values().stream().mapToInt(List::size).sum();
        assertThat(registry.get(WorkerMetrics.PROCESSED).counters()).hasSize(2 * 3 * reasons);
        assertThat(registry.get(WorkerMetrics.PROCESSED).tags("queue", "uploads", "type", "resize", "outcome",
                "dead", "reason", "exhausted").counter().count()).isEqualTo(1);
        assertThat(registry.get(WorkerMetrics.PROCESSED).tags("queue", "uploads", "type", "resize", "outcome",
                "dead", "reason", "poison").counter().count()).isZero(); // pre-created
        assertThat(registry.get(WorkerMetrics.PROCESSED).tags("queue", "uploads", "type", "resize", "outcome",
                "retried", "reason", "error").counter().count()).isEqualTo(2);

        // Durations only for runs whose handler ran, by outcome.
        assertThat(registry.get(WorkerMetrics.DURATION).timers()).extracting(t -> t.getId().getTag("outcome"))
                .containsExactlyInAnyOrder("success", "retried", "dead", "success");
        Timer ok = registry.get(WorkerMetrics.DURATION).tags("queue", "uploads", "type", "resize", "outcome", "success")
                .timer();
        assertThat(ok.count()).isEqualTo(2);
        assertThat(ok.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(200);
        assertThat(registry.get(WorkerMetrics.LAG).tags("queue", "uploads", "type", "resize").timer().count())
                .isEqualTo(5);

        // Attempts at every settlement.
        assertThat(registry.get(WorkerMetrics.ATTEMPTS).tags("queue", "uploads", "type", "resize", "outcome",
                "success").summary().totalAmount()).isEqualTo(4);
        assertThat(registry.get(WorkerMetrics.ATTEMPTS).tags("queue", "uploads", "type", "resize", "outcome",
                "dead").summary().max()).isEqualTo(4);
        assertThat(registry.get(WorkerMetrics.ATTEMPTS).summaries()).extracting(s -> s.getId().getTag("outcome"))
                .contains("success", "dead", "retried", "superseded", "lock_busy", "returned");
    }

    /** The distribution settings each meter is registered with from now on, by meter name. */
    private Map<String, DistributionStatisticConfig> distributionConfigs() {
        Map<String, DistributionStatisticConfig> configs = new ConcurrentHashMap<>();
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                configs.put(id.getName(), config);
                return config;
            }
        });
        return configs;
    }

    @Test
    void durationAndLagArePercentileHistogramsUpToTheHandlerTimeoutAndTwoDays() {
        Map<String, DistributionStatisticConfig> configs = distributionConfigs();
        metrics.bindTo(registry);
        metrics.onSettled(ran("uploads", "resize", Outcome.SUCCESS, 1));
        DistributionStatisticConfig duration = configs.get(WorkerMetrics.DURATION);
        assertThat(duration.isPercentileHistogram()).isTrue();
        assertThat(duration.getMaximumExpectedValueAsDouble()).isEqualTo(Duration.ofSeconds(20).toNanos());
        DistributionStatisticConfig lag = configs.get(WorkerMetrics.LAG);
        assertThat(lag.isPercentileHistogram()).isTrue();
        assertThat(lag.getMaximumExpectedValueAsDouble()).isEqualTo(Duration.ofDays(2).toNanos());
        assertThat(configs.get(WorkerMetrics.ATTEMPTS).getServiceLevelObjectiveBoundaries()).contains(1.0, 3.0, 10.0);
    }

    @Test
    void lockChecksAreTimedPerQueueWithSubMillisecondBucketsAndOnlyForKeyedDeliveries() {
        Map<String, DistributionStatisticConfig> configs = distributionConfigs();
        metrics.bindTo(registry);
        metrics.onSettled(new WorkerListener.Settled("uploads", "resize", Outcome.SUCCESS, "none",
                Duration.ofMillis(3), Duration.ofMillis(9), 1, null, 0, Duration.ofNanos(400_000)));
        metrics.onSettled(new WorkerListener.Settled("uploads", "resize", Outcome.LOCK_BUSY, "lock-busy", null, null,
                1, null, 0, Duration.ofNanos(200_000)));
        metrics.onSettled(ran("uploads", "resize", Outcome.SUCCESS, 1));
        metrics.onSettled(ran("mail", "send", Outcome.SUCCESS, 1));

        Timer t = registry.get(WorkerMetrics.LOCK_CHECK).tags("queue", "uploads").timer();
        assertThat(t.count()).isEqualTo(2);
        assertThat(t.totalTime(TimeUnit.MICROSECONDS)).isEqualTo(600);
        assertThat(registry.find(WorkerMetrics.LOCK_CHECK).tags("queue", "mail").timer()).isNull();
        assertThat(configs.get(WorkerMetrics.LOCK_CHECK).getServiceLevelObjectiveBoundaries())
                .contains((double) Duration.ofNanos(100_000).toNanos(), (double) Duration.ofMillis(1).toNanos());
    }

    @Test
    void gaugesShowDepthsInFlightAndCircuitState() {
        metrics.bindTo(registry);
        assertThat(registry.get(WorkerMetrics.QUEUE_DEPTH).tags("queue", "uploads", "kind", "work").gauge().value())
                .isNaN();
        metrics.queueDepth("uploads", WorkerMetrics.KIND_WORK, 12);
        metrics.queueDepth("uploads", WorkerMetrics.KIND_RETRY, 3);
        metrics.queueDepth("uploads", WorkerMetrics.KIND_DEAD, 1);
        assertThat(registry.get(WorkerMetrics.QUEUE_DEPTH).tags("queue", "uploads", "kind", "work").gauge().value())
                .isEqualTo(12);
        assertThat(registry.get(WorkerMetrics.QUEUE_DEPTH).tags("queue", "uploads", "kind", "retry").gauge().value())
                .isEqualTo(3);
        assertThat(registry.get(WorkerMetrics.QUEUE_DEPTH).tags("queue", "uploads", "kind", "dead").gauge().value())
                .isEqualTo(1);
        assertThat(registry.get(WorkerMetrics.QUEUE_DEPTH).gauges()).hasSize(6);

        inFlight.set(5);
        assertThat(registry.get(WorkerMetrics.INFLIGHT).gauge().value()).isEqualTo(5);
        laneWaiting.set(3);
        assertThat(registry.get(WorkerMetrics.LANE_WAITING).gauge().value()).isEqualTo(3);

        // Only queues with a breaker have a circuit gauge.
        assertThat(registry.get(WorkerMetrics.CIRCUIT_STATE).gauges()).extracting(g -> g.getId().getTag("queue"))
                .containsExactly("uploads");
        assertThat(registry.get(WorkerMetrics.CIRCUIT_STATE).gauge().value()).isZero();
        metrics.onBreakerStateChanged("uploads", BreakerState.OPEN);
        assertThat(registry.get(WorkerMetrics.CIRCUIT_STATE).gauge().value()).isEqualTo(1);
        metrics.onBreakerStateChanged("uploads", BreakerState.HALF_OPEN);
        assertThat(registry.get(WorkerMetrics.CIRCUIT_STATE).gauge().value()).isEqualTo(2);
    }

    @Test
    void settlementsBeforeBindingAreNotAnError() {
        metrics.onSettled(ran("uploads", "resize", Outcome.SUCCESS, 1));
        metrics.bindTo(registry);
        assertThat(processed("uploads", "resize", "success")).isZero();
    }

    @Test
    void withADefaultHandlerTheTaskTypeIsTheTagBoundedToAHundred() {
        TypeTags open = new TypeTags(java.util.Set.of("resize"), true);
        assertThat(open.tag("resize")).isEqualTo("resize");
        assertThat(open.tag("thumbnail")).isEqualTo("thumbnail");
        for (int i = 0; i < TypeTags.MAX_OPEN_TYPES + 5; i++) {
            open.tag("t" + i);
        }
        assertThat(open.tag("one-too-many")).isEqualTo(WorkerMetrics.UNKNOWN_TYPE);
        assertThat(open.tag("thumbnail")).isEqualTo("thumbnail");
        assertThat(open.tag(null)).isEqualTo(WorkerMetrics.UNKNOWN_TYPE);
        TypeTags closed = new TypeTags(java.util.Set.of("resize"), false);
        assertThat(closed.tag("thumbnail")).isEqualTo(WorkerMetrics.UNKNOWN_TYPE);
    }

    @Test
    void reasonTagsAreTheDecisionsBoundedReasons() {
        assertThat(DeliveryExecutor.reasonTag(new Decision.DeadLetter(dev.hopper.topology.DeadReason.POISON, null,
                "x", null, 3))).isEqualTo("poison");
        assertThat(DeliveryExecutor.reasonTag(new Decision.HandBack(Decision.HandBack.Why.BREAKER_OPEN,
                Decision.HandBack.Via.COPY, 0))).isEqualTo("breaker-open");
        assertThat(WorkerMetrics.REASONS.get(Outcome.RETURNED)).contains("breaker-open", "shutdown",
                "store-unavailable");
    }

    @Test
    void countsFollowUpsAndJoinsByQueueAndBoundedType() {
        metrics.bindTo(registry);
        metrics.onFollowUpsPublished("uploads", "resize", 20);
        metrics.onFollowUpsPublished("uploads", "resize", 5);
        metrics.onJoinPublished("uploads", "resize");
        metrics.onJoinPublished("mail", "not-registered");

        assertThat(registry.get(WorkerMetrics.FOLLOW_UPS_PUBLISHED).tags("queue", "uploads", "type", "resize")
                .counter().count()).isEqualTo(25);
        assertThat(registry.get(WorkerMetrics.JOINS_FIRED).tags("queue", "uploads", "type", "resize").counter()
                .count()).isEqualTo(1);
        assertThat(registry.get(WorkerMetrics.JOINS_FIRED).tags("queue", "mail", "type", "unknown").counter()
                .count()).isEqualTo(1);
    }
}
