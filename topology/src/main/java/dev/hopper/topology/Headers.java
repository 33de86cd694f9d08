package dev.hopper.topology;

import java.util.Map;

/**
 * The {@code x-hopper-*} header names (design.md, "The message"). This class is the only place they are
 * spelled. Also knows which broker-owned headers must be stripped before Hopper republishes a message.
 */
public final class Headers {
    public static final String PREFIX = "x-hopper-";

    public static final String KEY = "x-hopper-key";
    public static final String REVISION = "x-hopper-revision";
    public static final String ATTEMPT = "x-hopper-attempt";
    public static final String FIRST_ATTEMPT_AT = "x-hopper-first-attempt-at";
    public static final String PUBLISHED_AT = "x-hopper-published-at";
    public static final String RETRY_REASON = "x-hopper-retry-reason";
    /**
     * How many times the task went back because its key's lock was busy. Not an attempt (the handler did
     * not run); it has its own budget, past which the task is dead-lettered as {@code lock-timeout}.
     * Added to design.md's list because the budget must survive the trip through a delay queue.
     */
    public static final String LOCK_WAITS = "x-hopper-lock-waits";
    public static final String DEAD_REASON = "x-hopper-dead-reason";
    public static final String ERROR_CLASS = "x-hopper-error-class";
    public static final String ERROR_MESSAGE = "x-hopper-error-message";
    public static final String ERROR_STACK = "x-hopper-error-stack";
    public static final String FAILED_AT = "x-hopper-failed-at";
    public static final String WORKER = "x-hopper-worker";
    /** The work queue a dead letter came from, so replay knows where to send it back. */
    public static final String ORIGIN_QUEUE = "x-hopper-origin-queue";
    public static final String REPLAYED_AT = "x-hopper-replayed-at";
    public static final String REPLAY_COUNT = "x-hopper-replay-count";
    public static final String REPLAYED_BY = "x-hopper-replayed-by";

    /**
     * Epoch milliseconds (long) before which the task must not run: delayed tasks and coalesced runs. Readers
     * also accept an ISO-8601 string; anything else, a negative value or one past the year 9999 makes the task
     * {@code malformed} ({@link TaskSchedule}).
     */
    public static final String NOT_BEFORE = "x-hopper-not-before";
    /**
     * On a coalesced task: {@code "<debounce-ms>/<max-delay-ms>"} ({@link CoalesceWindow#headerValue()}); its run
     * is claimed from the coordination store.
     */
    public static final String COALESCE = "x-hopper-coalesce";
    /**
     * How many trips through a delay tier a not-before task has made so far (the publisher's first one included).
     * Past {@link DelayRoute#MAX_HOPS} the task is dead-lettered as {@code hop-limit} instead of hopping forever.
     * Added to design.md's list because the count must survive the trip through a delay queue.
     */
    public static final String HOPS = "x-hopper-hops";
    /**
     * On a coalesced run that already claimed its payload (its retry copies): how many publishes the run absorbed.
     * Its body is the claimed payload, so it is run as it is instead of being claimed again. Added to design.md's
     * list so that a failed run retries with what it claimed.
     */
    public static final String COALESCED = "x-hopper-coalesced";
    /**
     * On a follow-up task (and on a join): the message id of the task whose handler asked for it. Its children's
     * message ids are derived from it ({@link FollowUpIds}), and its join state lives under it in the coordination
     * store. A string; anything else makes the task {@code malformed} ({@link Lineage#read}).
     */
    public static final String PARENT = "x-hopper-parent";
    /**
     * On a join (a follow-up published once every other follow-up of its parent succeeded): {@code true}. Needs
     * {@link #PARENT}. A boolean (or the string {@code "true"}/{@code "false"}); anything else is {@code malformed}.
     */
    public static final String JOIN = "x-hopper-join";
    /**
     * On a suspect (a task redelivered past {@code poison-after}, which may be the one crashing its workers, or may
     * only have been prefetched beside it): how many of its worker's crashes were already counted against it while
     * it was the worker's only suspect. A suspect runs alone on its worker, so each redelivery of it from then on is
     * a crash of a worker on which it was the only thing that could have started. A non-negative integer; a copy
     * that finally runs and fails goes on without it.
     */
    public static final String SUSPECT = "x-hopper-suspect";

    /** Set by quorum queues on redelivery; absent means 0. */
    public static final String BROKER_DELIVERY_COUNT = "x-delivery-count";
    public static final String BROKER_DEATH = "x-death";

    /** Bound on {@link #ERROR_STACK}: far below frame_max so a dead letter is never refused for its size. */
    public static final int ERROR_STACK_MAX_CHARS = 8 * 1024;
    /** Bound on {@link #ERROR_MESSAGE}. */
    public static final int ERROR_MESSAGE_MAX_CHARS = 2 * 1024;

    private Headers() {}

    /**
     * True for headers the broker owns and Hopper must not carry into a republished copy: {@code x-death},
     * {@code x-first-death-*}, {@code x-last-death-*} and {@code x-delivery-count}. RabbitMQ 3.10–3.13 read a
     * client-set {@code x-death} in dead-letter cycle detection and can silently drop the message.
     */
    public static boolean isBrokerOwned(String name) {
        return name.equals(BROKER_DEATH)
                || name.startsWith("x-first-death-")
                || name.startsWith("x-last-death-")
                || name.equals(BROKER_DELIVERY_COUNT);
    }

    /** A new mutable map with every header of {@code headers} except the broker-owned ones. */
    public static Map<String, Object> withoutBrokerHeaders(Map<String, Object> headers) {
        Map<String, Object> copy = new java.util.LinkedHashMap<>();
        headers.forEach((k, v) -> {
            if (!isBrokerOwned(k)) {
                copy.put(k, v);
            }
        });
        return copy;
    }

    /** Truncates {@code text} to {@code max} characters, marking the cut with an ellipsis. */
    public static String truncate(String text, int max) {
        if (text.length() <= max) {
            return text;
        }
        return text.substring(0, Math.max(0, max - 1)) + "…";
    }
}
