package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

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
