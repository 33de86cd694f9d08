package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.CoalesceWindow;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What every {@link CoalescingStore} promises (design.md, "Coalescing"), run against each {@link CoordinationStore}
 * by {@link CoordinationStoreContract}. Time is the {@code now} passed in, so nothing sleeps.
 */
interface CoalescingContract {
    Instant T0 = Instant.parse("2026-12-02T06:00:00Z");
    Duration DEBOUNCE = Duration.ofSeconds(1);
    Duration MAX_DELAY = Duration.ofSeconds(2);
    CoalesceWindow WINDOW = new CoalesceWindow(DEBOUNCE, MAX_DELAY);
    CoalesceKey DIGEST = new CoalesceKey("mail", "digest", "user:7");

    /** The store under test, fresh for each test. */
    CoordinationStore coalescingStore();

    private CoalesceSchedule publish(String id, String payload, Instant now) {
        return coalescingStore().scheduleOrAbsorb(DIGEST, id, bytes(payload), WINDOW, now);
    }

    private CoalesceClaim claim(String id, Instant now) {
        return coalescingStore().claim(DIGEST, id, WINDOW, now);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static CoalesceClaim.Claimed claimed(String payload, long absorbed, boolean again) {
        return new CoalesceClaim.Claimed(bytes(payload), absorbed, again);
    }

    private static void assertClaimed(CoalesceClaim actual, String payload, long absorbed, boolean again) {
        assertThat(actual).isInstanceOf(CoalesceClaim.Claimed.class);
        CoalesceClaim.Claimed c = (CoalesceClaim.Claimed) actual;
        assertThat(new String(c.payload(), StandardCharsets.UTF_8)).isEqualTo(payload);
        assertThat(c.absorbed()).isEqualTo(absorbed);
        assertThat(c.again()).isEqualTo(again);
    }

    @Test
    default void firstTriggerIsPublishedToRunAtOnceAndClaimedWithItsPayload() {
        assertThat(publish("m1", "{\"n\":1}", T0)).isEqualTo(new CoalesceSchedule.PublishNow());

        assertClaimed(claim("m1", T0.plusMillis(5)), "{\"n\":1}", 0, false);
    }

    @Test
    default void pendingRunAbsorbsLaterTriggersKeepingTheLatestPayloadAndCount() {
        publish("m1", "1", T0);
        claim("m1", T0); // last run started at T0

        assertThat(publish("m2", "2", T0.plusMillis(100)))
                .as("within a debounce of the last run: one delayed run due at last run + debounce")
                .isEqualTo(new CoalesceSchedule.PublishDelayed(T0.plus(DEBOUNCE)));
        assertThat(publish("m3", "3", T0.plusMillis(200)))
                .as("due moves by a debounce, capped at last run + max-delay")
                .isEqualTo(new CoalesceSchedule.Absorbed("m2", T0.plus(MAX_DELAY), 1));
        assertThat(publish("m4", "4", T0.plusMillis(300)))
                .isEqualTo(new CoalesceSchedule.Absorbed("m2", T0.plus(MAX_DELAY), 2));

        assertThat(claim("m2", T0.plus(DEBOUNCE))).as("the due time moved: hop again")
                .isEqualTo(new CoalesceClaim.NotDue(T0.plus(MAX_DELAY)));
        assertClaimed(claim("m2", T0.plus(MAX_DELAY)), "4", 2, false);
        assertThat(claim("m3", T0.plus(MAX_DELAY))).as("absorbed publishes sent no message, but a stray one runs "
                + "nothing").isEqualTo(new CoalesceClaim.NothingPending());
    }

    @Test
    default void dueMovesByOneDebouncePerTriggerUntilTheMaxDelayCap() {
        CoalesceWindow wide = new CoalesceWindow(Duration.ofSeconds(10), Duration.ofSeconds(60));
        CoordinationStore s = coalescingStore();
        s.scheduleOrAbsorb(DIGEST, "m0", bytes("0"), wide, T0);
        s.claim(DIGEST, "m0", wide, T0);

        assertThat(s.scheduleOrAbsorb(DIGEST, "m1", bytes("1"), wide, T0.plusSeconds(1)))
                .isEqualTo(new CoalesceSchedule.PublishDelayed(T0.plusSeconds(10)));
        List<Instant> dues = new ArrayList<>();
        for (int i = 2; i <= 8; i++) {
            dues.add(((CoalesceSchedule.Absorbed) s.scheduleOrAbsorb(DIGEST, "m" + i, bytes("" + i), wide,
                    T0.plusSeconds(1 + i))).due());
        }
        assertThat(dues).containsExactly(T0.plusSeconds(20), T0.plusSeconds(30), T0.plusSeconds(40),
                T0.plusSeconds(50), T0.plusSeconds(60), T0.plusSeconds(60), T0.plusSeconds(60));
    }

    @Test
    default void pendingRunWithoutAnyLastRunStaysDueAtOnce() {
        publish("m1", "1", T0);

        assertThat(publish("m2", "2", T0.plusMillis(10))).isEqualTo(new CoalesceSchedule.Absorbed("m1", T0, 1));
        assertClaimed(claim("m1", T0.plusMillis(20)), "2", 1, false);
    }

    @Test
    default void triggerLongAfterTheLastRunRunsAtOnceAgain() {
        publish("m1", "1", T0);
        claim("m1", T0);

        assertThat(publish("m2", "2", T0.plus(DEBOUNCE))).isEqualTo(new CoalesceSchedule.PublishNow());
        assertClaimed(claim("m2", T0.plus(DEBOUNCE)), "2", 0, false);
    }

    @Test
    default void publishDuringAClaimedRunMakesANewPendingRun() {
        publish("m1", "1", T0);
        assertClaimed(claim("m1", T0), "1", 0, false);

        // The handler of m1 is still running when this arrives: it gets a run of its own, after m1's start.
        assertThat(publish("m2", "2", T0.plusMillis(50)))
                .isEqualTo(new CoalesceSchedule.PublishDelayed(T0.plus(DEBOUNCE)));
        assertClaimed(claim("m2", T0.plus(DEBOUNCE)), "2", 0, false);
    }

    @Test
    default void aRedeliveredClaimGetsTheSamePayloadAgain() {
        publish("m1", "1", T0);
        publish("m2", "2", T0.plusMillis(1));
        assertClaimed(claim("m1", T0.plusMillis(2)), "2", 1, false);

        // The worker died mid-run; the broker redelivers m1.
        assertClaimed(claim("m1", T0.plusMillis(500)), "2", 1, true);
        // A publish after the claim does not change what the claim handed out.
        publish("m3", "3", T0.plusMillis(600));
        assertClaimed(claim("m1", T0.plusMillis(700)), "2", 1, true);
    }

    @Test
    default void aRetriedPublishOfThePendingMessageIsAnsweredAgainAndNotCounted() {
        publish("m1", "1", T0);
        claim("m1", T0);
        assertThat(publish("m2", "2", T0.plusMillis(10)))
                .isEqualTo(new CoalesceSchedule.PublishDelayed(T0.plus(DEBOUNCE)));

        assertThat(publish("m2", "2", T0.plusMillis(20)))
                .isEqualTo(new CoalesceSchedule.PublishDelayed(T0.plus(DEBOUNCE)));
        assertThat(publish("m3", "3", T0.plusMillis(30))).isEqualTo(new CoalesceSchedule.Absorbed("m2",
                T0.plus(MAX_DELAY), 1));
        assertThat(publish("m2", "2", T0.plus(MAX_DELAY))).as("due by now").isEqualTo(
                new CoalesceSchedule.PublishNow());
    }

    @Test
    default void aPendingRunLongPastDueIsPresumedLostAndTakenOver() {
        publish("m1", "1", T0);
        publish("m2", "2", T0.plusMillis(1));
        Instant later = T0.plus(CoalescingStore.staleAfter(WINDOW)).plusMillis(2);

        assertThat(publish("m3", "3", later)).isEqualTo(new CoalesceSchedule.PublishNow());
        assertThat(claim("m1", later)).as("the old message, should it turn up").isEqualTo(
                new CoalesceClaim.NothingPending());
        assertClaimed(claim("m3", later), "3", 2, false);
    }

    @Test
    default void unknownMessagesRunNothingAndExpiredStateIsForgotten() {
        assertThat(claim("nobody", T0)).isEqualTo(new CoalesceClaim.Forgotten());
        publish("m1", "1", T0);
        assertThat(claim("other", T0)).isEqualTo(new CoalesceClaim.NothingPending());
        claim("m1", T0);

        Instant expired = T0.plus(MAX_DELAY).plus(CoalescingStore.RETENTION).plusMillis(1);
        assertThat(claim("m1", expired)).as("the state expired on its own").isEqualTo(new CoalesceClaim.Forgotten());
        assertThat(publish("m2", "2", expired)).isEqualTo(new CoalesceSchedule.PublishNow());
    }

    @Test
    default void keysQueuesAndTypesAreCoalescedIndependently() {
        CoordinationStore s = coalescingStore();
        List<CoalesceKey> keys = List.of(DIGEST, new CoalesceKey("mail", "digest", "user:8"),
                new CoalesceKey("mail", "weekly", "user:7"), new CoalesceKey("mail2", "digest", "user:7"),
                // Colons cannot make two keys collide.
                new CoalesceKey("mail", "digest:user", "7"), new CoalesceKey("mail:digest", "user", "7"));
        for (CoalesceKey k : keys) {
            assertThat(s.scheduleOrAbsorb(k, "m-" + k, bytes("1"), WINDOW, T0))
                    .as("%s", k).isEqualTo(new CoalesceSchedule.PublishNow());
        }
    }

    /**
     * The acceptance numbers, with a worker that claims whenever a run is due: one trigger, then 100 over 3 s with
     * debounce 1 s and max-delay 2 s.
     */
    @Test
    default void hundredTriggersOverThreeSecondsMakeFewRunsThatCoverEveryTrigger() {
        List<String> pendingIds = new ArrayList<>();
        List<Instant> dues = new ArrayList<>();
        int runs = 0;
        long absorbedTotal = 0;
        String lastRunPayload = null;
        Instant lastRunStart = null;
        Instant lastPublish = null;
        int publishes = 0;
        Instant now = T0;
        for (int tick = 0; tick <= 8_000; tick += 10, now = T0.plusMillis(tick)) {
            if (tick == 0 || tick >= 500 && tick < 3_500 && tick % 30 == 20 && publishes < 101) {
                publishes++;
                lastPublish = now;
                CoalesceSchedule answer = publish("m" + publishes, "p" + publishes, now);
                if (answer instanceof CoalesceSchedule.PublishNow) {
                    pendingIds.add("m" + publishes);
                    dues.add(now);
                } else if (answer instanceof CoalesceSchedule.PublishDelayed d) {
                    pendingIds.add("m" + publishes);
                    dues.add(d.notBefore());
                }
            }
            for (int i = 0; i < pendingIds.size(); i++) {
                if (!now.isBefore(dues.get(i))) {
                    CoalesceClaim c = claim(pendingIds.get(i), now);
                    if (c instanceof CoalesceClaim.NotDue nd) {
                        dues.set(i, nd.due());
                        continue;
                    }
                    assertThat(c).isInstanceOf(CoalesceClaim.Claimed.class);
                    CoalesceClaim.Claimed cl = (CoalesceClaim.Claimed) c;
                    runs++;
                    absorbedTotal += cl.absorbed();
                    lastRunPayload = new String(cl.payload(), StandardCharsets.UTF_8);
                    lastRunStart = now;
                    pendingIds.remove(i);
                    dues.remove(i);
                    i--;
                }
            }
        }
        assertThat(publishes).isEqualTo(101);
        assertThat(pendingIds).as("every run was claimed").isEmpty();
        assertThat(runs).as("runs").isBetween(2, 6); // the first one, then at most 5 for the 100
        assertThat(absorbedTotal + runs).as("absorbed + runs = publishes").isEqualTo(publishes);
        assertThat(lastRunPayload).isEqualTo("p101");
        assertThat(lastRunStart).isAfterOrEqualTo(lastPublish);
    }

    @Test
    default void concurrentPublishersMakeExactlyOnePendingRun() throws Exception {
        int threads = 8;
        int each = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<List<CoalesceSchedule>>> futures = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    List<CoalesceSchedule> answers = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        answers.add(publish("m-" + thread + "-" + i, "p", T0.plusMillis(i)));
                    }
                    return answers;
                }));
            }
            List<CoalesceSchedule> all = new ArrayList<>();
            for (Future<List<CoalesceSchedule>> f : futures) {
                all.addAll(f.get(60, TimeUnit.SECONDS));
            }
            List<CoalesceSchedule> published = all.stream()
                    .filter(a -> !(a instanceof CoalesceSchedule.Absorbed)).toList();
            assertThat(published).hasSize(1);
            long maxAbsorbed = all.stream().filter(a -> a instanceof CoalesceSchedule.Absorbed)
                    .mapToLong(a -> ((CoalesceSchedule.Absorbed) a).absorbed()).max().orElseThrow();
            assertThat(maxAbsorbed).isEqualTo(threads * each - 1);
        } finally {
            pool.shutdownNow();
        }
    }
}
