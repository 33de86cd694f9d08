/**
 * Per-key locks, revisions and done-markers shared by producers and workers (design.md, "Coordination store").
 * {@link dev.hopper.coordination.CoordinationStore} has two implementations: in-memory (one process, tests) and
 * Redis (several processes or hosts).
 */
@NullMarked
package dev.hopper.coordination;

import org.jspecify.annotations.NullMarked;
