package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import dev.hopper.consumer.Worker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The {@code hopper worker --metrics-port} registry: Hopper's meters with latency histograms cut to a fixed set of
 * SLO buckets (Micrometer's default percentile histogram has 60-120 buckets per series, which made one queue's
 * scrape 43 KB), the JVM and process meters an on-call engineer expects next to them (memory, GC, threads,
 * classes, CPU, uptime, open files), and {@value #CONNECTED}, 1 while the worker's broker connections are open.
 * {@link #close()} stops the GC listener.
 */
final class WorkerRegistry implements AutoCloseable {
    static final String CONNECTED = "hopper.broker.connected";
    /** The timers whose histograms get {@link #buckets} instead of a percentile histogram. */
    static final Set<String> LATENCY_TIMERS = Set.of("hopper.tasks.duration", "hopper.tasks.lag");
    /** Default buckets: from a fast handler to a long lag through retry tiers. */
    static final List<Duration> DEFAULT_BUCKETS = List.of(Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
            Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofMinutes(15), Duration.ofHours(1));

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gc;

    /** @param buckets the latency histogram's bucket bounds, ascending */
    WorkerRegistry(List<Duration> buckets) {
        requireNonNull(buckets, "buckets");
        if (buckets.isEmpty()) {
            throw new IllegalArgumentException("at least one latency bucket is needed");
        }
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(sloBuckets(buckets));
        new JvmMemoryMetrics().bindTo(registry);
        gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Adds {@value #CONNECTED} for {@code worker}. */
    void watch(Worker worker) {
        Gauge.builder(CONNECTED, worker, w -> w.isConnected() ? 1 : 0)
                .description("1 while the worker's broker connections are open, 0 while it reconnects")
                .register(registry);
    }

    /** Histograms of the latency timers with exactly {@code buckets} (and no percentile histogram). */
    static MeterFilter sloBuckets(List<Duration> buckets) {
        double[] nanos = buckets.stream().mapToDouble(d -> (double) d.toNanos()).sorted().toArray();
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (!LATENCY_TIMERS.contains(id.getName())) {
                    return config;
                }
                return DistributionStatisticConfig.builder().percentilesHistogram(false)
                        .serviceLevelObjectives(nanos).build().merge(config);
            }
        };
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
