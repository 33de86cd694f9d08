package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.coordination.LockRequest;
import dev.hopper.coordination.LockResult;
import dev.hopper.coordination.StoreUnavailableException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The wait in hand for a busy key, on scripted store answers and a fake monotonic clock that moves 100 ms each
 * time the waiter asks the store: what it answers after a release, after hand-overs and when the key stays quiet.
 */
class BusyKeyWaitTest {
    private static final Duration QUIET = Duration.ofMillis(500);
    private static final Duration CAP = Duration.ofSeconds(3);
    private static final Effect.AwaitLock WAIT = new Effect.AwaitLock(
            new Effect.CheckAndLock("K", 4L, "w/1", Duration.ofSeconds(30), false), QUIET, CAP);
    private static final long STEP = Duration.ofMillis(100).toNanos();

    private long now;
    private final List<LockRequest> asked = new ArrayList<>();

    private static LockResult.Busy busy(long holder) {
        return new LockResult.Busy(Duration.ofSeconds(20), holder);
    }

    /** A store that answers from {@code script}, the clock moving one step per call; busy by holder 1 when out. */
    private Function<LockRequest, LockResult> store(LockResult... script) {
        Deque<LockResult> answers = new ArrayDeque<>(Arrays.asList(script));
        return r -> {
            asked.add(r);
            now += STEP;
            LockResult next = answers.poll();
            return next != null ? next : busy(1);
        };
    }

    private BusyKeyWait.Result await(Function<LockRequest, LockResult> store) {
        return new BusyKeyWait(store, () -> now, () -> false).await(WAIT, busy(1), 0, 0);
    }

    @Test
    void takesTheLockOnceTheHolderReleasesIt() {
        BusyKeyWait.Result r = await(store(busy(1), new LockResult.Acquired(9, 4)));

        assertThat(r.last()).isEqualTo(new LockResult.Acquired(9, 4));
        assertThat(r.lockWait().handOvers()).isZero();
        assertThat(r.lockWait().stopped()).isFalse();
        assertThat(asked).hasSize(2).allSatisfy(q -> {
            assertThat(q.key()).isEqualTo("K");
            assertThat(q.owner()).isEqualTo("w/1");
            assertThat(q.messageRevision()).isEqualTo(4L);
        });
        assertThat(r.answeredAtNanos() - r.requestedAtNanos()).as("the stamps are the last call's").isEqualTo(STEP);
    }

    @Test
    void aKeyHeldByOneRunGivesUpAfterTheQuietWait() {
        BusyKeyWait.Result r = await(store());

        assertThat(r.last()).isEqualTo(busy(1));
        assertThat(r.lockWait().waited()).isGreaterThanOrEqualTo(QUIET).isLessThan(CAP);
        assertThat(r.lockWait().handOvers()).isZero();
    }

    @Test
    void everyHandOverStartsTheQuietWaitOverSoAMovingKeyKeepsItsWaiter() {
        // Holders 2..9 in turn, each seen twice (200 ms): 1.6 s of hand-overs, more than three quiet waits.
        List<LockResult> script = new ArrayList<>();
        for (long h = 2; h <= 9; h++) {
            script.add(busy(h));
            script.add(busy(h));
        }
        script.add(new LockResult.Acquired(10, 4));

        BusyKeyWait.Result r = await(store(script.toArray(LockResult[]::new)));

        assertThat(r.last()).isEqualTo(new LockResult.Acquired(10, 4));
        assertThat(r.lockWait().handOvers()).isEqualTo(8);
        assertThat(r.lockWait().waited()).isGreaterThan(QUIET.multipliedBy(3));
    }

    @Test
    void aMovingKeyIsWaitedForAtMostTheCap() {
        List<LockResult> script = new ArrayList<>();
        for (long h = 2; h < 100; h++) {
            script.add(busy(h));
        }

        BusyKeyWait.Result r = await(store(script.toArray(LockResult[]::new)));

        assertThat(r.last()).isInstanceOf(LockResult.Busy.class);
        assertThat(r.lockWait().waited()).isGreaterThanOrEqualTo(CAP);
        assertThat(asked).hasSize((int) (CAP.toNanos() / STEP));
    }

    @Test
    void aSupersededAnswerEndsTheWait() {
        BusyKeyWait.Result r = await(store(new LockResult.Superseded(5)));

        assertThat(r.last()).isEqualTo(new LockResult.Superseded(5));
        assertThat(asked).hasSize(1);
    }

    @Test
    void shutdownEndsTheWaitWithoutAskingAgain() {
        AtomicBoolean closing = new AtomicBoolean(true);
        BusyKeyWait.Result r = new BusyKeyWait(store(), () -> now, closing::get).await(WAIT, busy(1), 0, 0);

        assertThat(r.lockWait().stopped()).isTrue();
        assertThat(r.last()).isEqualTo(busy(1));
        assertThat(asked).isEmpty();
    }

    @Test
    void aStoreThatStopsAnsweringEndsTheWaitWithItsError() {
        Function<LockRequest, LockResult> down = q -> {
            throw new StoreUnavailableException("redis://127.0.0.1:6379 did not answer");
        };
        assertThatThrownBy(() -> await(down)).isInstanceOf(StoreUnavailableException.class);
    }
}
