package dev.hopper.coordination;

import dev.hopper.topology.HopperException;

/**
 * A handler asked for more than a task graph may hold: more follow-ups than the limit per parent, a result or a
 * join payload over its size bound, or results adding up to more than a join can carry. Nothing was stored. The
 * message names the limit and the size; the task that caused it fails permanently (retrying gives the same answer).
 */
public final class FollowUpLimitException extends HopperException {
    private static final long serialVersionUID = 1L;

    public FollowUpLimitException(String message) {
        super(message);
    }
}
