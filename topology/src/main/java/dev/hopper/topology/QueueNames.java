package dev.hopper.topology;

/**
 * Names of the broker objects for a work queue (design.md, "Broker objects"). The one function for each
 * name; nothing else concatenates queue names.
 */
public final class QueueNames {
    /** Direct exchange for work queues; routing key = queue name. */
    public static final String TASKS_EXCHANGE = "hopper.tasks";
    /** Direct exchange for dead letters; routing key = work queue name. */
    public static final String DEAD_EXCHANGE = "hopper.dead";

    private static final String RETRY_INFIX = ".retry.";
    private static final String DEAD_SUFFIX = ".dead";

    private QueueNames() {}

    /** {@code uploads.retry.30s}. */
    public static String retryQueue(String workQueue, DelayTier tier) {
        return workQueue + RETRY_INFIX + tier.label();
    }

    /** {@code uploads.dead}. */
    public static String deadQueue(String workQueue) {
        return workQueue + DEAD_SUFFIX;
    }

    /**
     * Checks a work queue name: non-empty, at most 200 characters (tier and dead suffixes must still fit the
     * broker's 255-byte limit), not starting with {@code amq.} (reserved), and not itself a retry or dead queue.
     */
    public static String checkWorkQueue(String name) {
        if (name.isBlank()) {
            throw new IllegalArgumentException("queue name must not be empty");
        }
        if (name.length() > 200) {
            throw new IllegalArgumentException("queue name must be at most 200 characters: " + name);
        }
        if (name.startsWith("amq.")) {
            throw new IllegalArgumentException("queue names starting with 'amq.' are reserved by RabbitMQ: " + name);
        }
        if (name.contains(RETRY_INFIX) || name.endsWith(DEAD_SUFFIX)) {
            throw new IllegalArgumentException(
                    "'" + name + "' looks like a retry or dead queue; name the work queue itself");
        }
        return name;
    }
}
