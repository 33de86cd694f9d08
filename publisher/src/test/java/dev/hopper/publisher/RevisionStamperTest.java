package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.coordination.RevisionStore;
import dev.hopper.coordination.StoreUnavailableException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RevisionStamperTest {

    /** Counts the store calls and the keys asked for. */
    static final class CountingRevisions implements RevisionStore {
        final InMemoryCoordinationStore store = new InMemoryCoordinationStore();
        final List<List<String>> batchReads = new ArrayList<>();
        int singleReads;
        boolean down;

        @Override
        public long currentRevision(String key) {
            singleReads++;
            return store.currentRevision(key);
        }

        @Override
        public List<Long> currentRevisions(List<String> keys) {
            if (down) {
                throw new StoreUnavailableException("down");
            }
            batchReads.add(List.copyOf(keys));
            return keys.stream().map(store::currentRevision).toList();
        }

        @Override
        public long bumpRevision(String key) {
            return store.bumpRevision(key);
        }
    }

    private static Task task(String key) {
        return Task.builder().queue("q").type("t").payload(1).key(key).build();
    }

    @Test
    void aWindowIsStampedWithOneReadOfItsDistinctKeys() {
        CountingRevisions revisions = new CountingRevisions();
        revisions.bumpRevision("a");
        revisions.bumpRevision("a");
        revisions.bumpRevision("b");
        Task explicit = Task.builder().queue("q").type("t").payload(1).key("a").revision(7L).build();
        Task unkeyed = task(null);

        List<Task> stamped = new RevisionStamper(revisions).stamp(List.of(task("a"), task("b"), task("a"), explicit,
                unkeyed, task("never-bumped")));

        assertThat(stamped).extracting(Task::revision).containsExactly(2L, 1L, 2L, 7L, null, 0L);
        assertThat(revisions.batchReads).containsExactly(List.of("a", "b", "never-bumped"));
        assertThat(revisions.singleReads).isZero();
    }

    @Test
    void aBumpBeforeTheCallIsSeenByEveryTaskOfTheWindow() {
        CountingRevisions revisions = new CountingRevisions();
        RevisionStamper stamper = new RevisionStamper(revisions);
        assertThat(stamper.stamp(List.of(task("a"))).get(0).revision()).isEqualTo(0L);

        revisions.bumpRevision("a");

        assertThat(stamper.stamp(List.of(task("a"), task("a")))).extracting(Task::revision).containsExactly(1L, 1L);
    }

    @Test
    void aWindowWithoutKeyedTasksReadsNothingAndAStoreFailureStampsNothing() {
        CountingRevisions revisions = new CountingRevisions();
        RevisionStamper stamper = new RevisionStamper(revisions);
        List<Task> unkeyed = List.of(task(null));

        assertThat(stamper.stamp(unkeyed)).isSameAs(unkeyed);
        assertThat(revisions.batchReads).isEmpty();

        revisions.down = true;
        assertThatThrownBy(() -> stamper.stamp(List.of(task("a")))).isInstanceOf(StoreUnavailableException.class);
    }
}
