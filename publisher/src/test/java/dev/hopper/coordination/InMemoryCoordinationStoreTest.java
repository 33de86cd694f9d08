package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The contract on {@link InMemoryCoordinationStore}, with time moved by hand instead of slept. */
class InMemoryCoordinationStoreTest extends CoordinationStoreContract {
    private final AtomicLong nanos = new AtomicLong(123_456_789L);
    private final AtomicLong wallMicros = new AtomicLong(1_700_000_000_000_000L);

    @Override
    CoordinationStore newStore() {
        return new InMemoryCoordinationStore(wallClock(), nanos::get);
    }

    @Override
    void elapse(Duration d) {
        nanos.addAndGet(d.toNanos());
        wallMicros.addAndGet(d.toNanos() / 1_000);
    }

    @Test
    void tokensOfANewStoreStartAboveTheLastRunsWhenTheWallClockMovedOn() {
        long lastOfFirstRun = acquire(KEY, "a", LONG);
        for (int i = 0; i < 100; i++) {
            store.release(KEY, "a", lastOfFirstRun);
            lastOfFirstRun = acquire(KEY, "a", LONG);
        }

        wallMicros.addAndGet(1_000); // a restart takes at least a millisecond
        CoordinationStore restarted = newStore();
        LockResult result = restarted.checkAndLock(KEY, null, "b", LONG, false);

        assertThat(((LockResult.Acquired) result).fencingToken()).isGreaterThan(lastOfFirstRun);
    }

    @Test
    void leasesIgnoreWallClockJumps() {
        acquire(KEY, "a", SHORT);

        wallMicros.addAndGet(Duration.ofHours(1).toNanos() / 1_000);

        assertThat(store.checkAndLock(KEY, null, "b", LONG, false)).isInstanceOf(LockResult.Busy.class);
    }

    @Test
    void tokensDoNotGoBackWhenTheWallClockDoes() {
        long before = acquire(KEY, "a", SHORT);
        store.release(KEY, "a", before);

        wallMicros.addAndGet(-Duration.ofHours(1).toNanos() / 1_000);

        assertThat(acquire(KEY, "b", SHORT)).isGreaterThan(before);
    }

    /**
     * 1,000,000 keyed completions, 1 ms apart on the fake clock, with a 60 s marker TTL: the store never holds
     * more markers than one TTL's worth (60,000, plus the one being written), holds no key once its lock is
     * released, and still answers for markers inside the window.
     */
    @Test
    @Timeout(120)
    void memoryStaysBoundedByTheMarkerWindowOverAMillionKeyedCompletions() {
        InMemoryCoordinationStore s = new InMemoryCoordinationStore(wallClock(), nanos::get);
        Duration ttl = Duration.ofSeconds(60);
        Duration step = Duration.ofMillis(1);
        long window = ttl.toMillis() / step.toMillis();
        int maxRetained = 0;
        for (int i = 0; i < 1_000_000; i++) {
            String key = "key-" + (i % 1000);
            LockResult r = s.checkAndLock(key, null, "w-" + i, LONG, false);
            s.complete(key, "w-" + i, ((LockResult.Acquired) r).fencingToken(), "m-" + i, ttl);
            maxRetained = Math.max(maxRetained, s.retainedMarkers());
            elapse(step);
        }

        assertThat(maxRetained).isLessThanOrEqualTo((int) window + 1);
        assertThat(s.retainedMarkers()).isLessThanOrEqualTo((int) window + 1);
        assertThat(s.retainedKeys()).isZero();
        assertThat(s.isCompleted("m-999999")).isTrue();
        assertThat(s.isCompleted("m-" + (1_000_000 - window + 1))).isTrue();
        assertThat(s.isCompleted("m-" + (1_000_000 - window - 1))).isFalse();
        assertThat(s.isCompleted("m-0")).isFalse();
    }

    @Test
    void markersBeyondTheCapacityGoOldestFirst() {
        InMemoryCoordinationStore s = new InMemoryCoordinationStore(wallClock(), nanos::get, 1_000);
        for (int i = 0; i < 10_000; i++) {
            s.complete(null, "a", 0, "m-" + i, LONG);
        }

        assertThat(s.retainedMarkers()).isEqualTo(1_000);
        assertThat(s.isCompleted("m-9999")).isTrue();
        assertThat(s.isCompleted("m-9000")).isTrue();
        assertThat(s.isCompleted("m-8999")).isFalse();
    }

    @Test
    void aMarkerWrittenAgainKeepsItsLaterDeadline() {
        InMemoryCoordinationStore s = new InMemoryCoordinationStore(wallClock(), nanos::get);
        s.complete(null, "a", 0, "m-1", SHORT);
        elapse(SHORT.dividedBy(2));
        s.complete(null, "a", 0, "m-1", SHORT);
        elapse(SHORT.dividedBy(2).plusMillis(1));
        s.complete(null, "a", 0, "m-2", SHORT); // expires the first write of m-1, not the second

        assertThat(s.isCompleted("m-1")).isTrue();
        assertThat(s.retainedMarkers()).isEqualTo(2);
    }

    private Clock wallClock() {
        return new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                throw new UnsupportedOperationException("not needed by the store");
            }

            @Override
            public Instant instant() {
                long micros = wallMicros.get();
                return Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1_000);
            }
        };
    }
}
