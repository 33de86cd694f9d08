package dev.hopper.consumer;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code type} tag of a task's metrics, bounded. A type with a handler of its own is its own tag. With a
 * default handler (which accepts any type, e.g. {@code hopper worker --exec}) the first {@value #MAX_OPEN_TYPES}
 * distinct other types are tagged with their name too, and later ones {@code unknown} (logged once), so the set
 * of series stays bounded whatever producers send. Without a default handler other types are {@code unknown}
 * (they are dead-lettered as unknown-type). One per worker, shared by its queues; thread-safe.
 */
final class TypeTags {
    static final int MAX_OPEN_TYPES = 100;
    private static final Logger log = LoggerFactory.getLogger(TypeTags.class);

    private final Set<String> registered;
    private final boolean open;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean overflowLogged = new AtomicBoolean();

    /**
     * @param registered the types with a handler of their own
     * @param open whether a default handler runs every other type
     */
    TypeTags(Set<String> registered, boolean open) {
        this.registered = Set.copyOf(registered);
        this.open = open;
    }

    String tag(@Nullable String type) {
        if (type == null) {
            return WorkerMetrics.UNKNOWN_TYPE;
        }
        if (registered.contains(type)) {
            return type;
        }
        if (!open) {
            return WorkerMetrics.UNKNOWN_TYPE;
        }
        if (seen.contains(type)) {
            return type;
        }
        synchronized (seen) {
            if (seen.size() < MAX_OPEN_TYPES) {
                seen.add(type);
                return type;
            }
        }
        if (overflowLogged.compareAndSet(false, true)) {
            log.warn("more than {} task types run by the default handler; further types are tagged type=unknown "
                    + "in metrics", MAX_OPEN_TYPES);
        }
        return WorkerMetrics.UNKNOWN_TYPE;
    }
}
