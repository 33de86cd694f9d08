package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After a page of dead letters is served, reads those letters' full details in the background
 * ({@link DeadLetterIndex#cacheDetails}), so opening one is instant instead of a read of the dead queue. Coalesces:
 * per queue at most one task is queued and it fetches the latest page asked for; a queue busy with a refresh or an
 * action is skipped (the next page view asks again). Bounded: one pending page per configured queue.
 */
final class DetailPrefetch {
    private static final Logger log = LoggerFactory.getLogger(DetailPrefetch.class);

    private final Executor executor;
    private final QueueLocks locks;
    private final DeadLetterIndex index;
    private final Map<String, List<IndexedLetter>> pending = new ConcurrentHashMap<>();
    private final Set<String> queued = ConcurrentHashMap.newKeySet();

    DetailPrefetch(Executor executor, QueueLocks locks, DeadLetterIndex index) {
        this.executor = requireNonNull(executor, "executor");
        this.locks = requireNonNull(locks, "locks");
        this.index = requireNonNull(index, "index");
    }

    void pageServed(String queue, List<IndexedLetter> letters) {
        if (letters.isEmpty()) {
            return;
        }
        pending.put(queue, List.copyOf(letters));
        if (!queued.add(queue)) {
            return;
        }
        try {
            executor.execute(() -> {
                queued.remove(queue);
                List<IndexedLetter> page = pending.remove(queue);
                if (page == null) {
                    return;
                }
                try {
                    locks.tryRun(queue, () -> index.cacheDetails(queue, page));
                } catch (RuntimeException e) {
                    log.debug("prefetching dead letters failed queue={}: {}", queue, e.getMessage());
                }
            });
        } catch (RejectedExecutionException e) {
            queued.remove(queue); // shutting down
        }
    }
}
