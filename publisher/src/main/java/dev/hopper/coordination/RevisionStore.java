package dev.hopper.coordination;

/**
 * Per-key revisions: a number that producers bump when an entity changes, so tasks published against an older
 * revision can be recognised as superseded. Implementations are thread-safe.
 */
public interface RevisionStore {
    /** The key's current revision; 0 for a key that was never bumped. */
    long currentRevision(String key);

    /** Atomically increments the key's revision and returns the new value (1 for the first bump). */
    long bumpRevision(String key);
}
