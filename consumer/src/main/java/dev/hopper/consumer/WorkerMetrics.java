package dev.hopper.consumer;

import dev.hopper.topology.QueueSpec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;

/**
 * A worker's Micrometer meters (design.md, "Resilience and observability"). Pass any {@link MeterRegistry} to
 * {@link Worker.Builder#meterRegistry}; the worker creates, binds and feeds this binder. Names are dot-separated
 * (Prometheus shows {@code hopper.tasks.processed} as {@code hopper_tasks_processed_total}, timers in seconds):
 *
 * <ul>
 *   <li>{@value #PROCESSED} counter (queue, type, outcome, reason): one per settled delivery, outcome =
 *       {@link Outcome#tagValue()} (success, retried, dead, superseded, lock_busy, duplicate, returned, delayed,
 *       coalesced), reason = {@link WorkerListener.Settled#reason()} (retry reason, dead reason, hand-back cause,
 *       or {@code none}), so retries by cause, too many retries ({@code dead/exhausted}) and dead letters by reason
 *       can be alerted on. Pre-created at zero for every queue, registered type (and {@code unknown}) and outcome
 *       with its reasons, so rates start at zero.
 *   <li>{@value #DURATION} timer (queue, type, outcome): handler run time, only for deliveries whose handler ran;
 *       percentile histogram up to the queue's handler timeout.
 *   <li>{@value #LAG} timer (queue, type): original publish to handler start (includes retry delays);
 *       histogram up to 2 days.
 *   <li>{@value #LATENESS} timer (queue, type): for a task with a not-before time (a delayed task or a delayed
 *       coalesced run), how long after that time its handler started; histogram up to 2 days. Never negative: a
 *       task does not run early.
 *   <li>{@value #ABSORBED} counter (queue, type): publishes absorbed into coalesced runs that started (each run's
 *       count besides the publish that created it; the publisher counts the same publishes as
 *       {@code hopper.tasks.published{outcome=absorbed}}).
 *   <li>{@value #LOCK_CHECK} timer (queue): how long each delivery's lock and revision check took (the store's
 *       check-and-lock call, sent to answered; {@link WorkerListener.Settled#lockCheck()}), keyed tasks only;
 *       fixed buckets from 100 µs to 5 s ({@link #LOCK_CHECK_BUCKETS}): a local store answers in well under a
 *       millisecond, so the handler-sized buckets of the other timers would put every call in the first one.
 *   <li>{@value #ATTEMPTS} distribution summary (queue, type, outcome): runs so far at each settlement, for every
 *       outcome (at success or dead: the runs the task took).
 *   <li>{@value #QUEUE_DEPTH} gauge (queue, kind = work | retry | dead; retry sums the delay tiers): messages
 *       ready, refreshed every few seconds by passive declares, NaN until first read.
 *   <li>{@value #INFLIGHT} gauge: deliveries in hand (waiting in a key's lane, queued for or on a handler thread)
 *       and not yet settled.
 *   <li>{@value #LANE_WAITING} gauge: deliveries waiting in a key's lane behind another delivery for the same key
 *       ({@link KeyLanes}); a value that stays high names a hot key (one entity with many tasks).
 *   <li>{@value #CIRCUIT_STATE} gauge (queue), queues with a breaker only: {@link BreakerState#gaugeValue()}, 0
 *       closed, 1 open, 2 half-open.
 * </ul>
 *
 * <p>Tags are bounded: {@code type} is a registered task type or {@code unknown}; ids, keys and messages are never
 * tags. Register one worker per registry (or give each registry its own common tags): gauges with the same name
 * and tags keep the first worker's value. Thread-safe.
 */
public final class WorkerMetrics implements MeterBinder, WorkerListener {
    public static final String PROCESSED = "hopper.tasks.processed";
    public static final String DURATION = "hopper.tasks.duration";
    public static final String LAG = "hopper.tasks.lag";
    public static final String ATTEMPTS = "hopper.tasks.attempts";
    /** Timer (queue): the lock and revision check of keyed deliveries. */
    public static final String LOCK_CHECK = "hopper.lock.check";
    public static final String LATENESS = "hopper.tasks.lateness";
    public static final String ABSORBED = "hopper.tasks.absorbed";
    public static final String QUEUE_DEPTH = "hopper.queue.depth";
    public static final String INFLIGHT = "hopper.worker.inflight";
    public static final String LANE_WAITING = "hopper.worker.lane.waiting";
    public static final String CIRCUIT_STATE = "hopper.circuit.state";
    /** Counter: follow-up tasks published (confirmed), tagged with the queue and type of the task that asked. */
    public static final String FOLLOW_UPS_PUBLISHED = "hopper.followups.published";
    /** Counter: joins published (confirmed), tagged with the queue and type of the follow-up that completed them. */
    public static final String JOINS_FIRED = "hopper.joins.fired";

    public static final String TAG_QUEUE = "queue";
    public static final String TAG_TYPE = "type";
    public static final String TAG_OUTCOME = "outcome";
    public static final String TAG_KIND = "kind";
    public static final String KIND_WORK = "work";
    public static final String KIND_RETRY = "retry";
    public static final String KIND_DEAD = "dead";
    /** The {@code type} tag of tasks whose type has no handler of its own. */
    public static final String UNKNOWN_TYPE = "unknown";

    public static final String TAG_REASON = "reason";
    private static final List<String> KINDS = List.of(KIND_WORK, KIND_RETRY, KIND_DEAD);
    /** The reasons each outcome can have: the pre-created series. */
    static final Map<Outcome, List<String>> REASONS = reasons();
    static final Duration MAX_LAG = Duration.ofDays(2);
    private static final double[] ATTEMPT_BUCKETS = {1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100};
    /** The {@value #LOCK_CHECK} histogram's bucket bounds. */
    static final List<Duration> LOCK_CHECK_BUCKETS = List.of(Duration.ofNanos(100_000), Duration.ofNanos(250_000),
            Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5));
    private static final Duration[] LOCK_CHECK_SLOS = LOCK_CHECK_BUCKETS.toArray(Duration[]::new);

    private final Map<String, QueueSpec> queues;
    private final Set<String> types;
    private final IntSupplier inFlight;
    private final IntSupplier laneWaiting;
    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private final Map<String, DepthCell> depths = new ConcurrentHashMap<>(); // by queue + "/" + kind
    private final Map<String, BreakerState> circuits = new ConcurrentHashMap<>();

    /**
     * @param queues the worker's queues (names, delay tiers, handler timeouts, breakers)
     * @param types the registered task types (the bounded set of {@code type} tag values, with {@code unknown})
     * @param inFlight the worker's count of unsettled deliveries
     */
    WorkerMetrics(Collection<QueueSpec> queues, Collection<String> types, IntSupplier inFlight) {
        this(queues, types, inFlight, () -> 0);
    }

    /** @param laneWaiting the worker's count of deliveries waiting behind another of their key */
    WorkerMetrics(Collection<QueueSpec> queues, Collection<String> types, IntSupplier inFlight,
            IntSupplier laneWaiting) {
        Map<String, QueueSpec> m = new LinkedHashMap<>();
        queues.forEach(q -> m.put(q.name(), q));
        this.queues = Map.copyOf(m);
        TreeSet<String> t = new TreeSet<>(types);
        t.add(UNKNOWN_TYPE);
        this.types = Set.copyOf(t);
        this.inFlight = inFlight;
        this.laneWaiting = laneWaiting;
        for (QueueSpec q : queues) {
            for (String kind : KINDS) {
                depths.put(q.name() + "/" + kind, new DepthCell());
            }
            if (q.breaker() != null) {
                circuits.put(q.name(), BreakerState.CLOSED);
            }
        }
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (QueueSpec q : queues.values()) {
            for (String type : types) {
                for (Outcome o : Outcome.values()) {
                    for (String reason : REASONS.get(o)) {
                        processed(registry, q.name(), type, o, reason);
                    }
                }
            }
            for (String kind : KINDS) {
                String queue = q.name();
                Gauge.builder(QUEUE_DEPTH, depths.get(queue + "/" + kind), c -> c.value)
                        .description("Messages ready in the queue's work, retry (all tiers) or dead queue")
                        .tags(TAG_QUEUE, queue, TAG_KIND, kind).strongReference(true).register(registry);
            }
            if (q.breaker() != null) {
                String queue = q.name();
                Gauge.builder(CIRCUIT_STATE, circuits, c -> c.getOrDefault(queue, BreakerState.CLOSED).gaugeValue())
                        .description("Circuit breaker state: 0 closed, 1 open, 2 half-open")
                        .tags(TAG_QUEUE, queue).strongReference(true).register(registry);
            }
        }
        Gauge.builder(INFLIGHT, inFlight, s -> s.getAsInt())
                .description("Deliveries in hand and not yet settled")
                .strongReference(true).register(registry);
        Gauge.builder(LANE_WAITING, laneWaiting, s -> s.getAsInt())
                .description("Deliveries waiting behind another delivery for the same key")
                .strongReference(true).register(registry);
        registries.add(registry);
    }

    /** One meter's registry and tags: the key its built meter is kept under. */
    private record MeterKey(MeterRegistry registry, String queue, String type, Outcome outcome, String reason) {}

    /** The key of a meter tagged with queue and type only. */
    private record TypeKey(MeterRegistry registry, String queue, String type) {}

    // Meters are built once per registry and tag set and kept: building and registering one per event (tag
    // sorting, id lookup) cost microseconds on every delivery.
    private final Map<MeterKey, Counter> processedMeters = new ConcurrentHashMap<>();
    private final Map<MeterKey, Timer> durationMeters = new ConcurrentHashMap<>();
    private final Map<TypeKey, Timer> lagMeters = new ConcurrentHashMap<>();
    private final Map<TypeKey, Timer> latenessMeters = new ConcurrentHashMap<>();
    private final Map<TypeKey, Counter> absorbedMeters = new ConcurrentHashMap<>();
    private final Map<MeterKey, DistributionSummary> attemptMeters = new ConcurrentHashMap<>();
    private final Map<LockKey, Timer> lockCheckMeters = new ConcurrentHashMap<>();

    /** The key of a meter tagged with the queue only. */
    private record LockKey(MeterRegistry registry, String queue) {}

    @Override
    public void onSettled(Settled e) {
        // Already bounded by the worker's TypeTags: registered types, up to a hundred others with a default handler.
        String type = e.type();
        String outcome = e.outcome().tagValue();
        for (MeterRegistry r : registries) {
            MeterKey all = new MeterKey(r, e.queue(), type, e.outcome(), e.reason());
            processedMeters.computeIfAbsent(all, k -> processed(r, e.queue(), type, e.outcome(), e.reason()))
                    .increment();
            if (e.handlerDuration() != null) {
                durationMeters.computeIfAbsent(new MeterKey(r, e.queue(), type, e.outcome(), ""), k -> {
                    QueueSpec q = queues.get(e.queue());
                    return Timer.builder(DURATION).description("Handler run time")
                            .tags(TAG_QUEUE, e.queue(), TAG_TYPE, type, TAG_OUTCOME, outcome)
                            .publishPercentileHistogram()
                            .maximumExpectedValue(q == null ? Duration.ofMinutes(30) : q.handlerTimeout())
                            .register(r);
                }).record(e.handlerDuration());
            }
            TypeKey byType = new TypeKey(r, e.queue(), type);
            if (e.lag() != null) {
                lagMeters.computeIfAbsent(byType, k -> Timer.builder(LAG)
                        .description("Original publish to handler start, retry delays included")
                        .tags(TAG_QUEUE, e.queue(), TAG_TYPE, type)
                        .publishPercentileHistogram().maximumExpectedValue(MAX_LAG)
                        .register(r)).record(e.lag().isNegative() ? Duration.ZERO : e.lag());
            }
            if (e.lateness() != null) {
                latenessMeters.computeIfAbsent(byType, k -> Timer.builder(LATENESS)
                        .description("Not-before time to handler start, for delayed tasks")
                        .tags(TAG_QUEUE, e.queue(), TAG_TYPE, type)
                        .publishPercentileHistogram().maximumExpectedValue(MAX_LAG)
                        .register(r)).record(e.lateness().isNegative() ? Duration.ZERO : e.lateness());
            }
            if (e.lockCheck() != null) {
                lockCheckMeters.computeIfAbsent(new LockKey(r, e.queue()), k -> Timer.builder(LOCK_CHECK)
                        .description("Lock and revision check of keyed deliveries: store call sent to answered")
                        .tags(TAG_QUEUE, e.queue()).serviceLevelObjectives(LOCK_CHECK_SLOS)
                        .register(r)).record(e.lockCheck());
            }
            if (e.absorbed() > 0) {
                absorbedMeters.computeIfAbsent(byType, k -> Counter.builder(ABSORBED)
                        .description("Publishes absorbed into coalesced runs that started")
                        .tags(TAG_QUEUE, e.queue(), TAG_TYPE, type).register(r)).increment(e.absorbed());
            }
            if (e.attempts() >= 0) {
                attemptMeters.computeIfAbsent(new MeterKey(r, e.queue(), type, e.outcome(), ""),
                        k -> DistributionSummary.builder(ATTEMPTS)
                                .description("Runs a task took until it succeeded or died")
                                .tags(TAG_QUEUE, e.queue(), TAG_TYPE, type, TAG_OUTCOME, outcome)
                                .serviceLevelObjectives(ATTEMPT_BUCKETS)
                                .register(r)).record(e.attempts());
            }
        }
    }

    @Override
    public void onBreakerStateChanged(String queue, BreakerState state) {
        circuits.put(queue, state);
    }

    @Override
    public void onFollowUpsPublished(String queue, String type, int count) {
        String tag = types.contains(type) ? type : UNKNOWN_TYPE;
        for (MeterRegistry r : registries) {
            Counter.builder(FOLLOW_UPS_PUBLISHED).description("Follow-up tasks published by handlers (confirmed)")
                    .tags(TAG_QUEUE, queue, TAG_TYPE, tag).register(r).increment(count);
        }
    }

    @Override
    public void onJoinPublished(String queue, String type) {
        String tag = types.contains(type) ? type : UNKNOWN_TYPE;
        for (MeterRegistry r : registries) {
            Counter.builder(JOINS_FIRED).description("Joins published once all their follow-ups succeeded")
                    .tags(TAG_QUEUE, queue, TAG_TYPE, tag).register(r).increment();
        }
    }

    /** Sets a depth gauge's value (NaN when it cannot be read). */
    void queueDepth(String queue, String kind, double messages) {
        DepthCell c = depths.get(queue + "/" + kind);
        if (c != null) {
            c.value = messages;
        }
    }

    private static Counter processed(MeterRegistry r, String queue, String type, Outcome o, String reason) {
        return Counter.builder(PROCESSED).description("Deliveries settled, by outcome and reason")
                .tags(Tags.of(TAG_QUEUE, queue, TAG_TYPE, type, TAG_OUTCOME, o.tagValue(), TAG_REASON, reason))
                .register(r);
    }

    private static Map<Outcome, List<String>> reasons() {
        Map<Outcome, List<String>> m = new java.util.EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) {
            m.put(o, List.of(WorkerListener.Settled.NO_REASON));
        }
        m.put(Outcome.RETRIED, java.util.Arrays.stream(dev.hopper.topology.RetryReason.values())
                .filter(r -> r != dev.hopper.topology.RetryReason.LOCK_BUSY)
                .map(dev.hopper.topology.RetryReason::wireValue).toList());
        m.put(Outcome.LOCK_BUSY, List.of(dev.hopper.topology.RetryReason.LOCK_BUSY.wireValue()));
        m.put(Outcome.DEAD, java.util.Arrays.stream(dev.hopper.topology.DeadReason.values())
                .map(dev.hopper.topology.DeadReason::wireValue).toList());
        m.put(Outcome.RETURNED, java.util.Arrays.stream(Decision.HandBack.Why.values())
                .map(w -> w.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')).toList());
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The latest depth read by the poller thread, read by whichever thread scrapes. */
    private static final class DepthCell {
        volatile double value = Double.NaN;
    }
}
