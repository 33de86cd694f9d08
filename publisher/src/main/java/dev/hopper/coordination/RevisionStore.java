package dev.hopper.coordination;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-key revisions: a number that producers bump when an entity changes, so tasks published against an older
 * revision can be recognised as superseded. Implementations are thread-safe.
 */
public interface RevisionStore {
    /** The key's current revision; 0 for a key that was never bumped. */
    long currentRevision(String key);

    /**
     * The current revisions of {@code keys}, in order (0 for a key never bumped), read in one round trip by a store
     * that can (Redis: one MGET). Each value is what {@link #currentRevision} answered at some moment during the
     * call; the reads are not one atomic snapshot across keys.
     */
    default List<Long> currentRevisions(List<String> keys) {
        List<Long> values = new ArrayList<>(keys.size());
        for (String key : keys) {
            values.add(currentRevision(key));
        }
        return values;
    }

    /** Atomically increments the key's revision and returns the new value (1 for the first bump). */
    long bumpRevision(String key);
}
