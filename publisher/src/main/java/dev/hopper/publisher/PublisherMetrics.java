package dev.hopper.publisher;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TaskPublisher}'s Micrometer meter: {@value #PUBLISHED} counter (queue, type, outcome), one per publish
 * when its outcome is known. Outcomes: {@code confirmed} (the broker confirmed), {@code nacked} (basic.nack, e.g. a
 * full queue with reject-publish), {@code returned} (unroutable: no such queue), {@code failed} (anything else:
 * connection lost, timeout, window full, blocked, closed, revision store down), {@code absorbed} (a coalesced task
 * whose payload a pending run took over: the count of absorbed publishes). Prometheus shows it as
 * {@code hopper_tasks_published_total}. Wire it with {@link TaskPublisher.Builder#meterRegistry}.
 *
 * <p>Tags stay bounded: a publisher has no registry of task types, so the first {@value #MAX_TYPES} distinct
 * types get a {@code type} value of their own and any later one is tagged {@code unknown} (logged once).
 * Thread-safe.
 */
public final class PublisherMetrics implements MeterBinder {
    public static final String PUBLISHED = "hopper.tasks.published";
    public static final String CONFIRMED = "confirmed";
    public static final String NACKED = "nacked";
    public static final String RETURNED = "returned";
    public static final String FAILED = "failed";
    /** A coalesced task absorbed into a pending run: no message sent, its payload kept for that run. */
    public static final String ABSORBED = "absorbed";
    static final int MAX_TYPES = 100;
    private static final Logger log = LoggerFactory.getLogger(PublisherMetrics.class);

    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private final Set<String> types = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean overflowLogged = new AtomicBoolean();

    PublisherMetrics() {}

    @Override
    public void bindTo(MeterRegistry registry) {
        registries.add(registry);
    }

    /** Records one publish's outcome; {@code error} null means confirmed (or absorbed when {@code absorbed}). */
    void record(String queue, String type, boolean absorbed, @Nullable Throwable error) {
        String outcome = error == null && absorbed ? ABSORBED : outcomeOf(error);
        String typeTag = typeTag(type);
        for (MeterRegistry r : registries) {
            Counter.builder(PUBLISHED).description("Tasks published, by broker outcome")
                    .tags("queue", queue, "type", typeTag, "outcome", outcome).register(r).increment();
        }
    }

    static String outcomeOf(@Nullable Throwable error) {
        Throwable e = error;
        while (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        if (e == null) {
            return CONFIRMED;
        }
        if (e instanceof PublishException p) {
            if (p.reason() == PublishException.Reason.NACKED) {
                return NACKED;
            }
            if (p.reason() == PublishException.Reason.UNROUTABLE) {
                return RETURNED;
            }
        }
        return FAILED;
    }

    private String typeTag(String type) {
        if (types.contains(type)) {
            return type;
        }
        synchronized (types) {
            if (types.size() < MAX_TYPES) {
                types.add(type);
                return type;
            }
        }
        if (overflowLogged.compareAndSet(false, true)) {
            log.warn("more than {} task types published; further types are tagged type=unknown in {}", MAX_TYPES,
                    PUBLISHED);
        }
        return "unknown";
    }
}
