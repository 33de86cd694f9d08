package dev.hopper.ops.bench;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.InMemoryCoordinationStore;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.topology.CoordinationSpec;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.Topology;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark's own work queue (with its retry tiers and dead queue) and the coordination namespace of one run.
 * The same values give the same {@link HopperConfig} in the benchmark JVM and in worker JVMs. Immutable.
 *
 * @param namespace Redis key prefix of the run; every key written under it expires on its own: locks with their
 *     lease, done-markers after {@link #DONE_MARKER_TTL}, but fencing-token keys only after the store's week
 *     (a token must keep rising across a lock's expiry), one per key the run used
 */
record BenchQueue(String name, int concurrency, int prefetch, String namespace) {
    private static final Logger log = LoggerFactory.getLogger(BenchQueue.class);

    /** Short, so that a run's done-markers do not linger in a shared Redis. */
    static final Duration DONE_MARKER_TTL = Duration.ofMinutes(10);

    BenchQueue {
        requireNonNull(name, "name");
        requireNonNull(namespace, "namespace");
    }

    /** A uniquely named queue for one run: {@code hopper-bench-<8 hex digits>}. */
    static BenchQueue forRun(BenchSettings s) {
        String id = java.util.UUID.randomUUID().toString().substring(0, 8);
        return new BenchQueue("hopper-bench-" + id, s.concurrency(), s.prefetch(), "hopper-bench:" + id + ":");
    }

    QueueSpec spec() {
        return QueueSpec.builder(name).concurrency(concurrency).prefetch(prefetch).build();
    }

    HopperConfig config() {
        CoordinationSpec coordination = new CoordinationSpec(namespace, DONE_MARKER_TTL,
                CoordinationSpec.DEFAULT.operationTimeout());
        QueueSpec spec = spec();
        return new HopperConfig(Map.of(spec.name(), spec), coordination);
    }

    /**
     * A new coordination store for the run's namespace, or null for {@link BenchSettings.Store#NONE}. The caller
     * closes it.
     */
    @Nullable CoordinationStore openStore(BenchSettings.Store kind, URI redisUri) {
        switch (kind) {
            case MEMORY:
                return new InMemoryCoordinationStore();
            case REDIS:
                return new RedisCoordinationStore(RedisStoreConfig.builder(redisUri)
                        .coordination(config().coordination()).build());
            default:
                return null;
        }
    }

    /** Declares the queue, its retry tiers and its dead queue (and the shared exchanges if missing). */
    void declare(Connection connection) {
        new Topology(config()).declare(connection);
    }

    /**
     * Deletes the work, retry and dead queues of this run (never the shared exchanges). Tries every queue even when
     * one fails.
     *
     * @throws HopperException naming the queues that could not be deleted
     */
    void delete(Connection connection) {
        QueueSpec spec = spec();
        List<String> names = new ArrayList<>();
        names.add(spec.name());
        for (DelayTier t : spec.tiers()) {
            names.add(spec.retryQueue(t));
        }
        names.add(spec.deadQueue());
        List<String> failed = new ArrayList<>();
        for (String q : names) {
            try (Channel ch = connection.createChannel()) {
                ch.queueDelete(q);
            } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
                log.warn("bench queue not deleted queue={} error={}", q, e.toString());
                failed.add(q);
            }
        }
        if (!failed.isEmpty()) {
            throw new HopperException("could not delete the benchmark's queues " + failed
                    + "; delete them with 'rabbitmqctl delete_queue NAME'");
        }
    }
}
