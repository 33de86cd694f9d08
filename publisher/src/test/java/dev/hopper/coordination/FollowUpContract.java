package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * What every {@link FollowUpStore} promises (design.md, "Follow-up tasks and joins"), run against each
 * {@link CoordinationStore} by {@link CoordinationStoreContract}.
 */
interface FollowUpContract {
    Duration KEEP = Duration.ofMinutes(10);
    Duration DONE_TTL = Duration.ofMinutes(10);

    /** The store under test, fresh for each test. */
    CoordinationStore followUpStore();

    /** Lets at least {@code d} pass on the clock the store expires state with. */
    void letTimePass(Duration d);

    private static GroupPlan plan(String parent, int children, boolean withJoin, Duration retention) {
        List<GroupPlan.Child> list = new ArrayList<>();
        for (int i = 0; i < children; i++) {
            // A colon in the queue name: the member encoding must not split on it.
            list.add(new GroupPlan.Child(parent + "-c" + i, "thumbs:eu", "resize"));
        }
        JoinTask join = withJoin ? new JoinTask(parent + "-join", "reports", "merge", "report:1", "{\"r\":1}") : null;
        return new GroupPlan(parent, list, join, retention);
    }

    private ChildCompletion complete(String parent, String child, @Nullable String result) {
        return followUpStore().completeChild(parent, child, result, DONE_TTL);
    }

    @Test
    default void theLastChildMakesTheJoinDueWithEveryResultInTheParentsOrder() {
        assertThat(followUpStore().openGroup(plan("p", 3, true, KEEP))).isEqualTo(GroupOpening.OPENED);

        assertThat(complete("p", "p-c2", "{\"i\":2}")).isEqualTo(new ChildCompletion.Counted(1, 3, false));
        assertThat(complete("p", "p-c0", "[0]")).isEqualTo(new ChildCompletion.Counted(2, 3, false));
        ChildCompletion last = complete("p", "p-c1", null);

        assertThat(last).isInstanceOf(ChildCompletion.JoinDue.class);
        ChildCompletion.JoinDue due = (ChildCompletion.JoinDue) last;
        assertThat(due.duplicate()).isFalse();
        assertThat(due.join()).isEqualTo(new JoinTask("p-join", "reports", "merge", "report:1", "{\"r\":1}"));
        assertThat(due.results()).containsExactly("[0]", null, "{\"i\":2}");
    }

    @Test
    default void aChildCompletingTwiceCountsOnceAndKeepsItsFirstResult() {
        followUpStore().openGroup(plan("p", 2, true, KEEP));

        complete("p", "p-c0", "\"first\"");
        assertThat(complete("p", "p-c0", "\"second\"")).isEqualTo(new ChildCompletion.Counted(1, 2, true));

        ChildCompletion.JoinDue due = (ChildCompletion.JoinDue) complete("p", "p-c1", "\"other\"");
        assertThat(due.results()).containsExactly("\"first\"", "\"other\"");
    }

    @Test
    default void completingAChildWritesItsDoneMarkerEvenWithoutAGroup() {
        followUpStore().openGroup(plan("p", 1, false, KEEP));
        assertThat(followUpStore().isCompleted("p-c0")).isFalse();

        complete("p", "p-c0", null);
        ChildCompletion orphan = complete("gone", "orphan", null);

        assertThat(followUpStore().isCompleted("p-c0")).isTrue();
        assertThat(followUpStore().isCompleted("orphan")).isTrue();
        assertThat(orphan).isInstanceOf(ChildCompletion.Untracked.class);
        assertThat(((ChildCompletion.Untracked) orphan).reason()).contains("no group for parent gone");
        assertThat(complete("p", "stranger", null)).isInstanceOf(ChildCompletion.Untracked.class);
    }

    @Test
    default void theJoinStaysDueForDuplicatesUntilItIsRecordedAsPublished() {
        // The last child's worker died after the store update, before the join's confirm: whoever sees a copy of
        // any child again must be told to publish the join.
        followUpStore().openGroup(plan("p", 2, true, KEEP));
        complete("p", "p-c0", "1");
        assertThat(complete("p", "p-c1", "2")).isInstanceOf(ChildCompletion.JoinDue.class);

        ChildCompletion again = complete("p", "p-c1", "2");
        assertThat(again).isInstanceOf(ChildCompletion.JoinDue.class);
        assertThat(again.duplicate()).isTrue();
        assertThat(((ChildCompletion.JoinDue) again).results()).containsExactly("1", "2");
        assertThat(complete("p", "p-c0", "1")).isInstanceOf(ChildCompletion.JoinDue.class);

        followUpStore().joinPublished("p");

        assertThat(complete("p", "p-c1", "2")).isEqualTo(new ChildCompletion.Counted(2, 2, true));
        assertThat(followUpStore().group("p").orElseThrow().join().state())
                .isEqualTo(GroupView.JoinState.PUBLISHED);
    }

    @Test
    default void concurrentCompletionsMakeTheJoinDueExactlyOnce() throws Exception {
        int n = 200;
        followUpStore().openGroup(plan("p", n, true, KEEP));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<ChildCompletion>> answers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String child = "p-c" + i;
                String result = Integer.toString(i);
                answers.add(pool.submit(() -> complete("p", child, result)));
                // Every child arrives twice, as after a parent that ran twice.
                answers.add(pool.submit(() -> complete("p", child, result)));
            }
            int firstTimeDue = 0;
            int counted = 0;
            for (Future<ChildCompletion> f : answers) {
                ChildCompletion c = f.get(30, TimeUnit.SECONDS);
                if (c instanceof ChildCompletion.JoinDue && !c.duplicate()) {
                    firstTimeDue++;
                }
                if (!c.duplicate()) {
                    counted++;
                }
            }
            assertThat(firstTimeDue).isEqualTo(1);
            assertThat(counted).as("each child counted once").isEqualTo(n);
        } finally {
            pool.shutdownNow();
        }
        GroupView view = followUpStore().group("p").orElseThrow();
        assertThat(view.done()).isEqualTo(n);
    }

    @Test
    default void aDeadChildHoldsTheJoinUntilItSucceeds() {
        followUpStore().openGroup(plan("p", 3, true, KEEP));
        followUpStore().childDead("p", "p-c1", "permanent");
        complete("p", "p-c0", null);
        assertThat(complete("p", "p-c2", null)).isEqualTo(new ChildCompletion.Counted(2, 3, false));

        GroupView held = followUpStore().group("p").orElseThrow();
        assertThat(held.children()).extracting(GroupView.ChildView::state)
                .containsExactly(GroupView.State.DONE, GroupView.State.DEAD, GroupView.State.DONE);
        assertThat(held.children().get(1).deadReason()).isEqualTo("permanent");
        assertThat(held.join().state()).isEqualTo(GroupView.JoinState.WAITING);

        // Replayed and fixed.
        assertThat(complete("p", "p-c1", "\"fixed\"")).isInstanceOf(ChildCompletion.JoinDue.class);
        GroupView after = followUpStore().group("p").orElseThrow();
        assertThat(after.children().get(1).state()).isEqualTo(GroupView.State.DONE);
        assertThat(after.children().get(1).deadReason()).isNull();
    }

    @Test
    default void aDeadRecordIsIgnoredForAChildAlreadyDoneOrUnknown() {
        followUpStore().openGroup(plan("p", 2, true, KEEP));
        complete("p", "p-c0", null);

        followUpStore().childDead("p", "p-c0", "lock-timeout");
        followUpStore().childDead("p", "stranger", "permanent");
        followUpStore().childDead("nobody", "x", "permanent");

        GroupView view = followUpStore().group("p").orElseThrow();
        assertThat(view.children()).extracting(GroupView.ChildView::state)
                .containsExactly(GroupView.State.DONE, GroupView.State.PENDING);
        assertThat(followUpStore().group("nobody")).isEmpty();
    }

    @Test
    default void theViewFollowsTheJoinFromWaitingToDoneOrDead() {
        followUpStore().openGroup(plan("p", 1, true, KEEP));
        GroupView fresh = followUpStore().group("p").orElseThrow();
        assertThat(fresh.parentId()).isEqualTo("p");
        assertThat(fresh.children()).containsExactly(new GroupView.ChildView(0, "p-c0", "thumbs:eu", "resize",
                GroupView.State.PENDING, null, false));
        assertThat(fresh.join()).isEqualTo(new GroupView.JoinView("p-join", "reports", "merge",
                GroupView.JoinState.WAITING, null));

        complete("p", "p-c0", "{}");
        followUpStore().joinPublished("p");
        followUpStore().childDead("p", "p-join", "exhausted");
        GroupView dead = followUpStore().group("p").orElseThrow();
        assertThat(dead.children().get(0).hasResult()).isTrue();
        assertThat(dead.join().state()).isEqualTo(GroupView.JoinState.DEAD);
        assertThat(dead.join().deadReason()).isEqualTo("exhausted");

        assertThat(complete("p", "p-join", null)).isEqualTo(new ChildCompletion.Counted(1, 1, false));
        assertThat(complete("p", "p-join", null).duplicate()).isTrue();
        assertThat(followUpStore().isCompleted("p-join")).isTrue();
        GroupView done = followUpStore().group("p").orElseThrow();
        assertThat(done.join().state()).isEqualTo(GroupView.JoinState.DONE);
        assertThat(done.join().deadReason()).isNull();
    }

    @Test
    default void aGroupWithoutAJoinIsCountedToTheEnd() {
        followUpStore().openGroup(plan("p", 2, false, KEEP));
        complete("p", "p-c0", null);

        assertThat(complete("p", "p-c1", null)).isEqualTo(new ChildCompletion.Counted(2, 2, false));
        assertThat(followUpStore().group("p").orElseThrow().join()).isNull();
    }

    @Test
    default void aReRunThatAsksForTheSameFollowUpsFindsTheGroupOpenAndOneThatAsksForOthersKeepsTheFirst() {
        assertThat(followUpStore().openGroup(plan("p", 2, true, KEEP))).isEqualTo(GroupOpening.OPENED);
        complete("p", "p-c0", null);

        assertThat(followUpStore().openGroup(plan("p", 2, true, KEEP))).isEqualTo(GroupOpening.ALREADY_OPEN);
        assertThat(followUpStore().openGroup(plan("p", 3, true, KEEP))).isEqualTo(GroupOpening.CONFLICT);

        GroupView view = followUpStore().group("p").orElseThrow();
        assertThat(view.children()).hasSize(2);
        assertThat(view.done()).as("re-opening reset nothing").isEqualTo(1);
    }

    @Test
    default void anOversizedResultIsRefusedAndNothingIsWritten() {
        followUpStore().openGroup(plan("p", 1, true, KEEP));
        String big = "\"" + "x".repeat(FollowUpStore.MAX_RESULT_BYTES) + "\"";

        assertThatThrownBy(() -> complete("p", "p-c0", big)).isInstanceOf(FollowUpLimitException.class)
                .hasMessageContaining("over the limit of 65536 bytes");
        assertThat(followUpStore().isCompleted("p-c0")).isFalse();
        assertThat(followUpStore().group("p").orElseThrow().done()).isZero();
    }

    @Test
    default void resultsThatWouldOverflowTheJoinAreRefusedAndNothingIsWritten() {
        int fit = (int) (FollowUpStore.MAX_GROUP_RESULT_BYTES / (FollowUpStore.MAX_RESULT_BYTES - 2));
        followUpStore().openGroup(plan("p", fit + 2, true, KEEP));
        char[] chars = new char[FollowUpStore.MAX_RESULT_BYTES - 4];
        Arrays.fill(chars, 'y');
        String large = "\"" + new String(chars) + "\"";
        for (int i = 0; i < fit; i++) {
            complete("p", "p-c" + i, large);
        }

        assertThatThrownBy(() -> complete("p", "p-c" + fit, large)).isInstanceOf(FollowUpLimitException.class)
                .hasMessageContaining("children of parent p").hasMessageContaining("per join");
        assertThat(followUpStore().isCompleted("p-c" + fit)).isFalse();
        assertThat(complete("p", "p-c" + fit, "1")).as("a small result still fits")
                .isEqualTo(new ChildCompletion.Counted(fit + 1, fit + 2, false));
    }

    @Test
    default void aGroupExpiresOnItsOwnAfterItsRetention() {
        followUpStore().openGroup(plan("p", 2, true, Duration.ofMillis(400)));
        complete("p", "p-c0", null);

        letTimePass(Duration.ofMillis(500));

        assertThat(followUpStore().group("p")).isEmpty();
        assertThat(complete("p", "p-c1", null)).isInstanceOf(ChildCompletion.Untracked.class);
        assertThat(followUpStore().openGroup(plan("p", 2, true, KEEP))).isEqualTo(GroupOpening.OPENED);
    }

    @Test
    default void aJoinWithoutChildrenIsPublishedWithItsParent() {
        followUpStore().openGroup(plan("p", 0, true, KEEP));

        assertThat(followUpStore().group("p").orElseThrow().join().state())
                .isEqualTo(GroupView.JoinState.PUBLISHED);
        assertThat(complete("p", "p-join", null)).isEqualTo(new ChildCompletion.Counted(0, 0, false));
    }
}
