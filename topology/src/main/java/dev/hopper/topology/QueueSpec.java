package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Everything Hopper needs to know about one work queue: its delay tiers, retry policy (with per-type
 * overrides), crash-loop limits, consumer defaults and lock settings. Immutable; build with {@link #builder}.
 *
 * @param tiers the delay tiers, ascending and distinct; never empty
 * @param typeRetry retry policies that replace {@code retry} for specific task types
 * @param deliveryLimit the quorum queue's {@code x-delivery-limit}: the broker-side crash-loop backstop
 * @param poisonAfter Hopper's own crash-loop guard: a delivery the broker has redelivered more than this many
 *     times is dead-lettered as {@code poison}; always below {@code deliveryLimit} so Hopper acts first, with its
 *     headers
 * @param maxBodyBytes bodies larger than this are dead-lettered as {@code malformed} without being parsed
 * @param breaker the queue's circuit breaker over handler failures; null when the queue has none
 * @param rateLimit most handler starts per second on this queue, per worker; 0 for no limit
 * @param quorumGroupSize {@code x-quorum-initial-group-size} of the queue and its retry and dead queues: how many
 *     cluster nodes get a replica when the queue is created; 0 for the broker's default. Applies at creation
 *     only: an existing queue keeps its members whatever this says ({@code topology verify} reports queues with
 *     fewer members than this)
 * @param deadRetention how long a dead letter stays in {@code Q.dead} before the broker drops it
 *     ({@code x-message-ttl} on the dead queue, {@code dead: {retention: 7d}} in hopper.yml); null (the default)
 *     keeps dead letters until they are replayed or purged
 */
public record QueueSpec(
        String name,
        List<DelayTier> tiers,
        RetryPolicy retry,
        Map<String, RetryPolicy> typeRetry,
        int deliveryLimit,
        int poisonAfter,
        int concurrency,
        int prefetch,
        Duration handlerTimeout,
        int maxBodyBytes,
        LockSpec lock,
        @Nullable BreakerSpec breaker,
        int rateLimit,
        int quorumGroupSize,
        @Nullable Duration deadRetention) {

    /** The broker's default consumer_timeout; a handler must finish (or be timed out) well before it. */
    public static final Duration BROKER_CONSUMER_TIMEOUT = Duration.ofMinutes(30);

    public QueueSpec {
        QueueNames.checkWorkQueue(requireNonNull(name, "name"));
        requireNonNull(retry, "retry");
        requireNonNull(handlerTimeout, "handlerTimeout");
        requireNonNull(lock, "lock");
        typeRetry = Map.copyOf(typeRetry);
        tiers = List.copyOf(new TreeSet<>(tiers));
        if (tiers.isEmpty()) {
            throw new IllegalArgumentException("queue " + name + " needs at least one delay tier");
        }
        if (poisonAfter < 1) {
            throw new IllegalArgumentException("poison-after must be >= 1, was " + poisonAfter);
        }
        if (deliveryLimit <= poisonAfter) {
            throw new IllegalArgumentException("delivery-limit (" + deliveryLimit + ") must be above poison-after ("
                    + poisonAfter + ") so Hopper dead-letters a crash-looping task before the broker does");
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1, was " + concurrency);
        }
        if (prefetch < concurrency) {
            throw new IllegalArgumentException(
                    "prefetch (" + prefetch + ") must be >= concurrency (" + concurrency + ") or threads sit idle");
        }
        if (prefetch > 65_535) {
            throw new IllegalArgumentException("prefetch must be <= 65535, was " + prefetch);
        }
        if (handlerTimeout.isNegative() || handlerTimeout.isZero()
                || handlerTimeout.compareTo(BROKER_CONSUMER_TIMEOUT) >= 0) {
            throw new IllegalArgumentException("handler-timeout must be positive and below the broker's "
                    + "consumer_timeout (30m by default), was " + DurationText.format(handlerTimeout));
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("max-body-bytes must be >= 1, was " + maxBodyBytes);
        }
        if (deadRetention != null && (deadRetention.isNegative() || deadRetention.isZero()
                || deadRetention.toMillis() > Integer.MAX_VALUE)) {
            // x-message-ttl is a 32-bit millisecond count on the broker.
            throw new IllegalArgumentException("dead retention must be between 1ms and 24d, was "
                    + DurationText.format(deadRetention));
        }
        if (rateLimit < 0) {
            throw new IllegalArgumentException("rate-limit must be >= 1 (or absent for no limit), was " + rateLimit);
        }
        if (quorumGroupSize < 0) {
            throw new IllegalArgumentException("quorum-initial-group-size must be >= 1 (or absent for the broker's "
                    + "default), was " + quorumGroupSize);
        }
    }

    /** The retry policy for a task type: its override, or the queue's policy. */
    public RetryPolicy retryFor(String type) {
        return typeRetry.getOrDefault(type, retry);
    }

    public String retryQueue(DelayTier tier) {
        return QueueNames.retryQueue(name, tier);
    }

    public String deadQueue() {
        return QueueNames.deadQueue(name);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** A builder starting from this spec's values. */
    public Builder toBuilder() {
        Builder b = new Builder(name);
        b.tiers = tiers;
        b.retry = retry;
        b.typeRetry = new LinkedHashMap<>(typeRetry);
        b.deliveryLimit = deliveryLimit;
        b.poisonAfter = poisonAfter;
        b.concurrency = concurrency;
        b.prefetch = prefetch;
        b.handlerTimeout = handlerTimeout;
        b.maxBodyBytes = maxBodyBytes;
        b.lock = lock;
        b.breaker = breaker;
        b.rateLimit = rateLimit;
        b.quorumGroupSize = quorumGroupSize;
        b.deadRetention = deadRetention;
        return b;
    }

    /** Builds a {@link QueueSpec}; unset tiers are implied by the retry policies. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private List<DelayTier> tiers = List.of();
        private RetryPolicy retry = RetryPolicy.DEFAULT;
        private Map<String, RetryPolicy> typeRetry = new LinkedHashMap<>();
        private int deliveryLimit = 20;
        private int poisonAfter = 5;
        private int concurrency = 4;
        private int prefetch = 16;
        private Duration handlerTimeout = Duration.ofMinutes(5);
        private int maxBodyBytes = 1024 * 1024;
        private LockSpec lock = LockSpec.DEFAULT;
        private @Nullable BreakerSpec breaker;
        private int rateLimit;
        private int quorumGroupSize;
        private @Nullable Duration deadRetention;

        private Builder(String name) {
            this.name = requireNonNull(name, "name");
        }

        public Builder tiers(List<DelayTier> tiers) {
            this.tiers = List.copyOf(tiers);
            return this;
        }

        public Builder retry(RetryPolicy retry) {
            this.retry = requireNonNull(retry, "retry");
            return this;
        }

        public Builder typeRetry(String type, RetryPolicy policy) {
            this.typeRetry.put(requireNonNull(type, "type"), requireNonNull(policy, "policy"));
            return this;
        }

        public Builder deliveryLimit(int n) {
            this.deliveryLimit = n;
            return this;
        }

        public Builder poisonAfter(int n) {
            this.poisonAfter = n;
            return this;
        }

        public Builder concurrency(int n) {
            this.concurrency = n;
            return this;
        }

        public Builder prefetch(int n) {
            this.prefetch = n;
            return this;
        }

        public Builder handlerTimeout(Duration d) {
            this.handlerTimeout = requireNonNull(d, "handlerTimeout");
            return this;
        }

        public Builder maxBodyBytes(int n) {
            this.maxBodyBytes = n;
            return this;
        }

        public Builder lock(LockSpec lock) {
            this.lock = requireNonNull(lock, "lock");
            return this;
        }

        /** A circuit breaker over this queue's handler failures; null (the default) for none. */
        public Builder breaker(@Nullable BreakerSpec breaker) {
            this.breaker = breaker;
            return this;
        }

        /** Most handler starts per second, per worker; 0 (the default) for no limit. */
        public Builder rateLimit(int perSecond) {
            this.rateLimit = perSecond;
            return this;
        }

        /**
         * Replicas (cluster nodes) each of the queue's quorum queues gets when created; 0 (the default) leaves the
         * choice to the broker.
         */
        public Builder quorumGroupSize(int nodes) {
            this.quorumGroupSize = nodes;
            return this;
        }

        /** How long dead letters stay in {@code Q.dead}; null (the default) until replayed or purged. */
        public Builder deadRetention(@Nullable Duration retention) {
            this.deadRetention = retention;
            return this;
        }

        public QueueSpec build() {
            List<DelayTier> effective = tiers;
            if (effective.isEmpty()) {
                TreeSet<DelayTier> implied = new TreeSet<>(retry.impliedTiers());
                typeRetry.values().forEach(p -> implied.addAll(p.impliedTiers()));
                effective = List.copyOf(implied);
            }
            return new QueueSpec(name, effective, retry, typeRetry, deliveryLimit, poisonAfter, concurrency,
                    prefetch, handlerTimeout, maxBodyBytes, lock, breaker, rateLimit, quorumGroupSize, deadRetention);
        }
    }
}
