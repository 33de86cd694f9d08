package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import dev.hopper.ops.dlq.DeadLetter;
import dev.hopper.ops.dlq.DeadLetterGroups;
import dev.hopper.topology.QueueNames;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the console knows about each dead queue without reading it per request: a snapshot of every dead letter's
 * summary ({@link IndexedLetter}), refreshed by {@link #refresh} (in the background, and right after each replay or
 * purge), from which pages, filters and groups are served in milliseconds.
 *
 * <p>Memory bound: at most {@code limit} letters per queue (65,535 at most, one channel's window, like a
 * {@code hopper dlq} pass: about 33 MB at 500 bytes each in the worst case of distinct error messages) plus {@link #DETAIL_CACHE} full letters per queue (each with its payload cut
 * to {@link LetterView#PAYLOAD_BUDGET}). A queue deeper than the limit is indexed up to the limit and the page says so.
 *
 * <p>Threads: queries read an immutable snapshot and are safe from any thread. {@link #refresh} and
 * {@link #find} read the broker and must be called under the queue's lock ({@link QueueLocks}); they block for as
 * long as a read of the dead queue takes.
 */
final class DeadLetterIndex {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterIndex.class);
    /** Full letters kept per queue for the letter page: the first ones of the queue, then the last ones opened. */
    static final int DETAIL_CACHE = 200;

    private final DeadQueueReader reader;
    private final Clock clock;
    private final int limit;
    private final LetterView views;
    private final Map<String, AtomicReference<IndexSnapshot>> snapshots = new ConcurrentHashMap<>();
    private final Map<String, Map<String, LetterView.Detail>> details = new ConcurrentHashMap<>();

    DeadLetterIndex(DeadQueueReader reader, Clock clock, int limit, LetterView views) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, was " + limit);
        }
        this.reader = requireNonNull(reader, "reader");
        this.clock = requireNonNull(clock, "clock");
        this.limit = limit;
        this.views = requireNonNull(views, "views");
    }

    int limit() {
        return limit;
    }

    /** The latest snapshot of {@code queue} (empty before the first refresh). */
    IndexSnapshot snapshot(String queue) {
        return slot(queue).get();
    }

    /**
     * Reads {@code queue}'s dead queue and replaces its snapshot. On failure the previous snapshot stays, marked with
     * the error. Call under the queue's lock.
     */
    IndexSnapshot refresh(String queue) {
        Instant start = clock.instant();
        long t0 = System.nanoTime();
        List<IndexedLetter> letters = new ArrayList<>();
        DeadLetterGroups groups = new DeadLetterGroups();
        StringPool pool = new StringPool();
        Map<String, LetterView.Detail> firstDetails = new LinkedHashMap<>();
        try {
            DeadQueueReader.Result r = reader.read(QueueNames.deadQueue(queue), limit, (position, letter) -> {
                letters.add(IndexedLetter.of(position, letter, pool));
                groups.add(letter);
                if (firstDetails.size() < DETAIL_CACHE) {
                    firstDetails.put(letter.messageId(), views.detail(letter, position));
                }
                return true;
            });
            IndexSnapshot s = new IndexSnapshot(queue, r.depth(), letters, groups.groups(), start,
                    Duration.ofNanos(System.nanoTime() - t0), null);
            slot(queue).set(s);
            Map<String, LetterView.Detail> cache = detailCache(queue);
            synchronized (cache) {
                cache.clear();
                cache.putAll(firstDetails);
            }
            log.debug("dead-letter index refreshed queue={} depth={} indexed={} took_ms={}", queue, r.depth(),
                    letters.size(), s.took().toMillis());
            return s;
        } catch (RuntimeException e) {
            log.warn("dead-letter index refresh failed queue={}: {}", queue, e.getMessage());
            return slot(queue).updateAndGet(old -> old.withError(String.valueOf(e.getMessage())));
        }
    }

    /** A letter from the cache, if it is there; never reads the broker. */
    Optional<LetterView.Detail> cached(String queue, String id) {
        Map<String, LetterView.Detail> cache = detailCache(queue);
        synchronized (cache) {
            return Optional.ofNullable(cache.get(id));
        }
    }

    /**
     * A letter by message id: from the cache, else read from the dead queue (up to the index limit) and cached.
     * Call under the queue's lock when it may read the broker.
     */
    Optional<LetterView.Detail> find(String queue, String id) {
        Optional<LetterView.Detail> hit = cached(queue, id);
        if (hit.isPresent()) {
            return hit;
        }
        AtomicReference<LetterView.Detail> found = new AtomicReference<>();
        DeadQueueReader.Result r = reader.read(QueueNames.deadQueue(queue), limit, (position, letter) -> {
            if (letter.messageId().equals(id)) {
                found.set(views.detail(letter, position));
                return false;
            }
            return true;
        });
        log.debug("dead letter lookup queue={} id={} found={} depth={} read={}", queue, id, found.get() != null,
                r.depth(), r.read());
        LetterView.Detail d = found.get();
        if (d != null) {
            Map<String, LetterView.Detail> cache = detailCache(queue);
            synchronized (cache) {
                cache.put(id, d);
            }
        }
        return Optional.ofNullable(d);
    }

    /**
     * Reads the full letters of one page ({@code letters}, at most {@link #DETAIL_CACHE}) into the detail cache, so
     * that opening one of them is instant: one read of the dead queue up to the last of them, stopping early once
     * all are found. Call under the queue's lock; the console does it in the background after serving a page.
     */
    void cacheDetails(String queue, List<IndexedLetter> letters) {
        java.util.Set<String> missing = new java.util.HashSet<>();
        for (IndexedLetter l : letters) {
            if (missing.size() < DETAIL_CACHE && cached(queue, l.id()).isEmpty()) {
                missing.add(l.id());
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        Map<String, LetterView.Detail> cache = detailCache(queue);
        // Up to the index limit (the read stops once all are found): a read of part of the queue is confined to one
        // window, and the letters may have moved since the index was read.
        reader.read(QueueNames.deadQueue(queue), limit, (position, letter) -> {
            if (missing.remove(letter.messageId())) {
                LetterView.Detail d = views.detail(letter, position);
                synchronized (cache) {
                    cache.put(d.id(), d);
                }
            }
            return !missing.isEmpty();
        });
    }

    /** Ids of the indexed letters {@code query} selects, in queue order, at most {@code max}. */
    List<String> ids(String queue, LetterQuery query, int max) {
        Instant now = clock.instant();
        List<String> out = new ArrayList<>();
        for (IndexedLetter l : snapshot(queue).letters()) {
            if (query.matches(l, now)) {
                out.add(l.id());
                if (out.size() >= max) {
                    break;
                }
            }
        }
        return out;
    }

    /** One page of the letters {@code query} selects, in queue order. */
    Page page(String queue, LetterQuery query, int page, int pageSize) {
        IndexSnapshot s = snapshot(queue);
        Instant now = clock.instant();
        int from = (page - 1) * pageSize;
        List<IndexedLetter> rows = new ArrayList<>(pageSize);
        int matched = 0;
        for (IndexedLetter l : s.letters()) {
            if (query.matches(l, now)) {
                if (matched >= from && rows.size() < pageSize) {
                    rows.add(l);
                }
                matched++;
            }
        }
        return new Page(s, rows, matched, page, pageSize);
    }

    /** Dead letters per 5-minute bucket over the last hour (oldest first), by failure time. */
    long[] lastHour(String queue) {
        Instant now = clock.instant();
        long[] buckets = new long[12];
        long end = now.toEpochMilli();
        long start = end - Duration.ofHours(1).toMillis();
        for (IndexedLetter l : snapshot(queue).letters()) {
            Instant at = l.failedAt();
            if (at != null) {
                long t = at.toEpochMilli();
                if (t >= start && t <= end) {
                    buckets[(int) Math.min(11, (t - start) / Duration.ofMinutes(5).toMillis())]++;
                }
            }
        }
        return buckets;
    }

    /** One page of a query's result. */
    record Page(IndexSnapshot snapshot, List<IndexedLetter> letters, int matched, int page, int pageSize) {
        int pages() {
            return Math.max(1, (matched + pageSize - 1) / pageSize);
        }
    }

    private AtomicReference<IndexSnapshot> slot(String queue) {
        return snapshots.computeIfAbsent(queue, q -> new AtomicReference<>(IndexSnapshot.empty(q)));
    }

    private Map<String, LetterView.Detail> detailCache(String queue) {
        return details.computeIfAbsent(queue, q -> new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, LetterView.Detail> eldest) {
                return size() > DETAIL_CACHE;
            }
        });
    }
}
