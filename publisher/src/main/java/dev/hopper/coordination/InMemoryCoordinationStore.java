package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.CoalesceWindow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * A {@link CoordinationStore} in this process's memory: the default when no Redis is configured, and the store
 * of unit tests. It coordinates the threads of one process only; several worker processes need
 * {@link RedisCoordinationStore}.
 *
 * <p>Thread-safe and non-blocking beyond short per-key critical sections; it never throws
 * {@link StoreUnavailableException}. Lease deadlines and done-marker expiry are measured on the injected monotonic
 * clock ({@code nanoTime}), so wall-clock jumps neither extend nor cut a lease, and tests advance time without
 * sleeping.
 *
 * <p>Fencing tokens come from one counter for the whole store, {@code max(last + 1, wall-clock microseconds)}:
 * strictly increasing for every key within the process, and, because they are seeded from the wall clock, above
 * the tokens of an earlier run of the process (as long as the wall clock did not go back across the restart), so
 * a downstream system that remembers the highest token it saw keeps refusing a stale holder after a restart.
 *
 * <p>Memory is O(live keys + retained done-markers), and retained markers are at most
 * {@code min(markers written within the longest TTL in use, markerCapacity)}. A live key is one with a revision
 * above 0 (revisions live as long as the store) or a lock not yet released; an unlocked key with revision 0 holds
 * no memory. Markers sit in one first-in-first-out queue in write order; every {@link #complete} first drops the
 * heads that expired or that exceed {@code markerCapacity} (default {@value #DEFAULT_MARKER_CAPACITY}, about 20 MB),
 * so expiry is amortized O(1) and no completion ever scans the store. A marker evicted by the capacity before its
 * TTL is forgotten early: in one process a redelivery comes back within seconds of its channel closing, far sooner
 * than {@code markerCapacity} newer completions, so only a redelivery older than that runs a second time (at least
 * once, as without a marker). After the last write, the markers of that last window remain until the next write.
 *
 * <p>Follow-up groups are kept apart, in {@link InMemoryFollowUps}, and expire {@link GroupPlan#retention()} after
 * their last write on the same monotonic clock. Groups and done-markers are this process's only: a follow-up is
 * deduplicated and a join fired exactly once only within the process. Coalescing state is kept apart, in
 * {@link InMemoryCoalescing}, measured on the wall-clock instants its callers pass in, and expires as that class
 * says.
 */
public final class InMemoryCoordinationStore implements CoordinationStore {
    /** Done-markers kept at most, by default. */
    public static final int DEFAULT_MARKER_CAPACITY = 100_000;
    private final Clock wallClock;
    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<String, KeyState> keys = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> doneDeadlines = new ConcurrentHashMap<>();
    /** Every marker in write order. */
    private final ConcurrentLinkedQueue<Marker> expiries = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final int markerCapacity;
    private final AtomicLong lastToken = new AtomicLong();
    private final InMemoryCoalescing coalescing = new InMemoryCoalescing();
    private final InMemoryFollowUps followUps;

    /** A store on the system clocks. */
    public InMemoryCoordinationStore() {
        this(Clock.systemUTC(), System::nanoTime);
    }

    /**
     * A store on the given clocks.
     *
     * @param wallClock seeds fencing tokens (microseconds since the epoch), nothing else
     * @param nanoTime monotonic nanoseconds, as {@link System#nanoTime()}: lease deadlines and done-marker expiry
     */
    public InMemoryCoordinationStore(Clock wallClock, LongSupplier nanoTime) {
        this(wallClock, nanoTime, DEFAULT_MARKER_CAPACITY);
    }

    /**
     * A store on the given clocks that keeps at most {@code markerCapacity} done-markers (the oldest go first).
     *
     * @param wallClock seeds fencing tokens (microseconds since the epoch), nothing else
     * @param nanoTime monotonic nanoseconds, as {@link System#nanoTime()}: lease deadlines and done-marker expiry
     */
    public InMemoryCoordinationStore(Clock wallClock, LongSupplier nanoTime, int markerCapacity) {
        this.wallClock = requireNonNull(wallClock, "wallClock");
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
        if (markerCapacity < 1) {
            throw new IllegalArgumentException("markerCapacity must be >= 1, was " + markerCapacity);
        }
        this.markerCapacity = markerCapacity;
        this.followUps = new InMemoryFollowUps(nanoTime);
    }

    @Override
    public LockResult checkAndLock(String key, @Nullable Long messageRevision, String owner, Duration lease,
            boolean lockIfSuperseded) {
        requireNonNull(key, "key");
        requireNonNull(owner, "owner");
        long leaseNanos = positiveNanos(lease, "lease");
        LockResult[] result = new LockResult[1];
        keys.compute(key, (k, state) -> {
            long now = nanoTime.getAsLong();
            long revision = state == null ? 0 : state.revision;
            if (messageRevision != null && !lockIfSuperseded && messageRevision < revision) {
                result[0] = new LockResult.Superseded(revision);
                return state;
            }
            if (state != null && state.isHeldAt(now)) {
                result[0] = new LockResult.Busy(Duration.ofNanos(state.deadlineNanos - now), state.token);
                return state;
            }
            long token = nextToken();
            result[0] = new LockResult.Acquired(token, revision);
            return new KeyState(revision, owner, token, now + leaseNanos);
        });
        return result[0];
    }

    @Override
    public boolean renew(String key, String owner, long fencingToken, Duration lease) {
        requireNonNull(key, "key");
        requireNonNull(owner, "owner");
        long leaseNanos = positiveNanos(lease, "lease");
        boolean[] renewed = new boolean[1];
        keys.computeIfPresent(key, (k, state) -> {
            long now = nanoTime.getAsLong();
            if (!state.isHeldAt(now) || !state.isHeldBy(owner, fencingToken)) {
                return state;
            }
            renewed[0] = true;
            return new KeyState(state.revision, owner, fencingToken, now + leaseNanos);
        });
        return renewed[0];
    }

    @Override
    public void complete(@Nullable String key, String owner, long fencingToken, String messageId, Duration doneTtl) {
        requireNonNull(owner, "owner");
        requireNonNull(messageId, "messageId");
        long ttlNanos = positiveNanos(doneTtl, "doneTtl");
        // Marker first, then the lock: a thread that takes the freed lock and checks isCompleted must see the
        // marker (what the Redis store's single script guarantees by atomicity).
        markDone(messageId, ttlNanos);
        if (key != null) {
            release(key, owner, fencingToken);
        }
    }

    private void markDone(String messageId, long ttlNanos) {
        long now = nanoTime.getAsLong();
        expire(now);
        long deadline = now + ttlNanos;
        doneDeadlines.put(messageId, deadline);
        expiries.add(new Marker(messageId, deadline));
        queued.incrementAndGet();
    }

    /**
     * Drops the oldest markers while they expired or exceed the capacity (leaving room for one more): only the
     * queue's head is looked at, each marker once.
     */
    private void expire(long now) {
        for (Marker head = expiries.peek(); head != null
                && (head.deadlineNanos - now <= 0 || queued.get() >= markerCapacity); head = expiries.peek()) {
            if (expiries.remove(head)) {
                queued.decrementAndGet();
                // A later completion of the same id wrote a later deadline: that marker stays.
                doneDeadlines.remove(head.messageId, head.deadlineNanos);
            }
        }
    }

    /** Done-markers held in memory (test seam: the bound of the class documentation). */
    int retainedMarkers() {
        return doneDeadlines.size();
    }

    /** Keys held in memory (test seam). */
    int retainedKeys() {
        return keys.size();
    }

    @Override
    public void release(String key, String owner, long fencingToken) {
        requireNonNull(key, "key");
        requireNonNull(owner, "owner");
        keys.computeIfPresent(key, (k, state) -> {
            if (!state.isHeldBy(owner, fencingToken)) {
                return state;
            }
            return state.revision == 0 ? null : KeyState.unlocked(state.revision);
        });
    }

    @Override
    public boolean isCompleted(String messageId) {
        requireNonNull(messageId, "messageId");
        Long deadline = doneDeadlines.get(messageId);
        return deadline != null && deadline - nanoTime.getAsLong() > 0;
    }

    @Override
    public long currentRevision(String key) {
        requireNonNull(key, "key");
        KeyState state = keys.get(key);
        return state == null ? 0 : state.revision;
    }

    @Override
    public long bumpRevision(String key) {
        requireNonNull(key, "key");
        KeyState bumped = keys.compute(key, (k, state) -> state == null
                ? KeyState.unlocked(1)
                : new KeyState(state.revision + 1, state.owner, state.token, state.deadlineNanos));
        return bumped.revision;
    }

    // ---- coalescing: all of it lives in InMemoryCoalescing ----

    @Override
    public CoalesceSchedule scheduleOrAbsorb(CoalesceKey key, String messageId, byte[] payload, CoalesceWindow window,
            Instant now) {
        return coalescing.scheduleOrAbsorb(key, messageId, payload, window, now);
    }

    @Override
    public CoalesceClaim claim(CoalesceKey key, String messageId, CoalesceWindow window, Instant now) {
        return coalescing.claim(key, messageId, window, now);
    }

    // ---- end of coalescing ----

    // ---- follow-ups and joins: the groups live in InMemoryFollowUps ----

    @Override
    public GroupOpening openGroup(GroupPlan plan) {
        return followUps.openGroup(plan);
    }

    @Override
    public ChildCompletion completeChild(String parentId, String childId, @Nullable String result,
            Duration doneTtl) {
        long ttlNanos = positiveNanos(doneTtl, "doneTtl");
        // Counted first (it may refuse an oversized result, and then nothing is written), then the marker: a reader
        // that sees the marker and calls again finds the child counted. Within one process nothing dies between.
        ChildCompletion answer = followUps.completeChild(parentId, childId, result);
        markDone(childId, ttlNanos);
        return answer;
    }

    @Override
    public void joinPublished(String parentId) {
        followUps.joinPublished(parentId);
    }

    @Override
    public void childDead(String parentId, String childId, String reason) {
        followUps.childDead(parentId, childId, reason);
    }

    @Override
    public Optional<GroupView> group(String parentId) {
        return followUps.group(parentId);
    }

    // ---- end of follow-ups and joins ----

    /** Nothing to release; the store keeps answering after close. */
    @Override
    public void close() {}

    private long nextToken() {
        Instant now = wallClock.instant();
        long micros = Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000L), now.getNano() / 1_000);
        return lastToken.updateAndGet(last -> Math.max(last + 1, micros));
    }

    static long positiveNanos(Duration d, String name) {
        requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
        return d.toNanos();
    }

    /** A done-marker's expiry, queued in write order. */
    private record Marker(String messageId, long deadlineNanos) {}

    /** One key's revision and lock; immutable, replaced under the map's per-key lock. */
    private static final class KeyState {
        final long revision;
        final @Nullable String owner;
        final long token;
        final long deadlineNanos;

        KeyState(long revision, @Nullable String owner, long token, long deadlineNanos) {
            this.revision = revision;
            this.owner = owner;
            this.token = token;
            this.deadlineNanos = deadlineNanos;
        }

        static KeyState unlocked(long revision) {
            return new KeyState(revision, null, 0, 0);
        }

        boolean isHeldAt(long nowNanos) {
            return owner != null && deadlineNanos - nowNanos > 0;
        }

        boolean isHeldBy(String candidate, long candidateToken) {
            return candidate.equals(owner) && token == candidateToken;
        }
    }
}
