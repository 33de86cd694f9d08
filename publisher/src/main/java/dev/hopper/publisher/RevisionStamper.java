package dev.hopper.publisher;

import dev.hopper.coordination.RevisionStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stamps keyed tasks without an explicit revision with their key's current revision, for a whole publish window
 * at once: one {@link RevisionStore#currentRevisions} call (one Redis MGET) for the window's distinct keys instead
 * of one GET per task. Stateless and thread-safe.
 *
 * <p><b>Why "a task published before a bump is superseded" stays true.</b> Every revision is read before the task
 * it stamps is handed to the broker, and a key's revision only grows. So a task published (handed over) before a
 * bump carries a revision read before that bump, which is lower than the bumped value: the worker sees it as
 * superseded, exactly as with one read per task. Reading a window's revisions together only moves each read
 * earlier, to the start of its window; it never moves a read after its publish. What can change is a bump that
 * lands between the window's read and a task's publish: that task is treated as published before the bump. That
 * bump and that publish are concurrent (neither waited for the other), so either order is a correct one; the
 * same race exists with a read per task, between the GET and the publish. A producer that bumps and then
 * publishes (bump first, then the publish call) always stamps the new revision: the read happens inside the
 * publish call. No revision is cached across calls, which would break exactly that case.
 */
final class RevisionStamper {
    private final RevisionStore store;

    RevisionStamper(RevisionStore store) {
        this.store = store;
    }

    /**
     * {@code tasks} with each keyed task that has no revision stamped, in order (other tasks unchanged).
     *
     * @throws RuntimeException what the store threw (e.g. StoreUnavailableException): nothing is stamped
     */
    List<Task> stamp(List<Task> tasks) {
        Map<String, Integer> slots = new LinkedHashMap<>();
        for (Task t : tasks) {
            if (needsRevision(t)) {
                slots.putIfAbsent(t.key(), slots.size());
            }
        }
        if (slots.isEmpty()) {
            return tasks;
        }
        List<Long> revisions = store.currentRevisions(new ArrayList<>(slots.keySet()));
        if (revisions.size() != slots.size()) {
            throw new IllegalStateException("the revision store answered " + revisions.size() + " revisions for "
                    + slots.size() + " keys");
        }
        List<Task> stamped = new ArrayList<>(tasks.size());
        for (Task t : tasks) {
            stamped.add(needsRevision(t) ? t.withRevision(revisions.get(slots.get(t.key()))) : t);
        }
        return stamped;
    }

    static boolean needsRevision(Task t) {
        return t.key() != null && t.revision() == null;
    }
}
