package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code hopper.yml} model: the work queues and the coordination store settings. Immutable; safe to share.
 *
 * <p>A minimal file is just {@code queues: [uploads]}; everything else has defaults. The full shape:
 *
 * <pre>{@code
 * defaults:                  # for every queue that does not set its own (each key replaces, not merges)
 *   tiers: [5s, 30s, 5m, 1h]
 *   retry: {delays: [5s, 30s, 5m, 1h], max-attempts: 8, max-age: 1d,
 *           retry-on: [java.io.IOException], permanent-on: [java.lang.IllegalArgumentException]}
 *   delivery-limit: 20
 *   poison-after: 5
 *   concurrency: 4
 *   prefetch: 16
 *   handler-timeout: 5m
 *   max-body-bytes: 1048576
 *   lock: {lease: 30s, max-waits: 100, superseded: skip, wait-in-hand: 2s}
 *   # optional, off unless present ({} or true = these defaults; false = none): pause consuming while
 *   # handlers keep failing
 *   breaker: {failure-rate: 50, minimum-calls: 20, window: 50, wait: 30s, half-open-calls: 5}
 *   rate-limit: 20           # optional: most handler starts per second per worker; no limit unless set
 * coordination: {namespace: "hopper:", done-marker-ttl: 1d, timeout: 2s}
 * queues:
 *   uploads: {}
 *   webhooks:
 *     retry: {schedule: [{until: 1h, every: 5m}, {until: 24h, every: 1h}]}
 *     types:
 *       thumbnail: {retry: {backoff: {initial: 1s, multiplier: 2, max: 5m, jitter: 0.5}, max-attempts: 10}}
 * }</pre>
 */
public record HopperConfig(Map<String, QueueSpec> queues, CoordinationSpec coordination) {

    public HopperConfig {
        requireNonNull(coordination, "coordination");
        queues = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(queues));
        queues.forEach((k, v) -> {
            if (!k.equals(v.name())) {
                throw new IllegalArgumentException("queue map key " + k + " does not match spec name " + v.name());
            }
        });
    }

    /** A config with these queues and default coordination settings. */
    public static HopperConfig of(List<QueueSpec> queues) {
        Map<String, QueueSpec> map = new LinkedHashMap<>();
        for (QueueSpec q : queues) {
            if (map.put(q.name(), q) != null) {
                throw new IllegalArgumentException("queue " + q.name() + " is listed twice");
            }
        }
        return new HopperConfig(map, CoordinationSpec.DEFAULT);
    }

    /**
     * Reads and validates a YAML file.
     *
     * @throws ConfigException naming the path of the first invalid value, or the file that cannot be read
     */
    public static HopperConfig load(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new ConfigException("", "config file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("", "cannot read config file " + file + ": " + e.getMessage());
        }
    }

    /** Parses and validates YAML text. */
    public static HopperConfig parse(String yaml) {
        return new ConfigReader().read(yaml);
    }

    /** The queue with this name, if configured. */
    public Optional<QueueSpec> queue(String name) {
        return Optional.ofNullable(queues.get(name));
    }

    /** The queue with this name. @throws ConfigException naming the configured queues when absent. */
    public QueueSpec requireQueue(String name) {
        QueueSpec q = queues.get(name);
        if (q == null) {
            throw new ConfigException("queues", "no queue named '" + name + "' (configured: "
                    + String.join(", ", queues.keySet()) + ")");
        }
        return q;
    }

    /**
     * This config with {@code nodes} as the quorum group size of every queue that does not set its own: what a
     * client that knows the cluster's size (the nodes of a multi-node URI) declares with. {@code nodes} below 2
     * changes nothing (a single node needs no replicas, and a single-node URI says nothing about the cluster).
     */
    public HopperConfig withDefaultQuorumGroupSize(int nodes) {
        if (nodes < 2) {
            return this;
        }
        Map<String, QueueSpec> map = new LinkedHashMap<>();
        queues.forEach((name, q) -> map.put(name, q.quorumGroupSize() > 0 ? q
                : q.toBuilder().quorumGroupSize(nodes).build()));
        return new HopperConfig(map, coordination);
    }

    /** This config plus {@code spec} (replacing a queue of the same name). */
    public HopperConfig withQueue(QueueSpec spec) {
        Map<String, QueueSpec> map = new LinkedHashMap<>(queues);
        map.put(spec.name(), spec);
        return new HopperConfig(map, coordination);
    }
}
