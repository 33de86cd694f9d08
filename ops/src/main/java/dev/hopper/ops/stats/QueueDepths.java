package dev.hopper.ops.stats;

import static java.util.Objects.requireNonNull;

import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.QueueProbe;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.QueueSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Depth and consumer count of every work, retry-tier and dead queue of a configuration, read with
 * {@link QueueProbe} (passive declares: ready messages only, nothing created). Use from one thread at a time.
 */
public final class QueueDepths implements AutoCloseable {

    /** Which role a queue plays for its work queue. */
    public enum Kind { WORK, RETRY, DEAD }

    /**
     * One queue.
     *
     * @param tier the delay tier label for a retry queue, else null
     * @param messages ready messages, or null when the queue does not exist
     * @param consumers consumers, or null when the queue does not exist
     */
    public record Depth(String workQueue, String queue, Kind kind, @Nullable String tier, @Nullable Long messages,
            @Nullable Integer consumers) {
        public boolean exists() {
            return messages != null;
        }
    }

    private final QueueProbe probe;

    public QueueDepths(BrokerConnection connection) {
        this.probe = new QueueProbe(requireNonNull(connection, "connection"));
    }

    /** Every queue of {@code config}, each work queue followed by its tiers (shortest first) and its dead queue. */
    public List<Depth> read(HopperConfig config) {
        List<Depth> out = new ArrayList<>();
        for (QueueSpec q : config.queues().values()) {
            out.add(read(q.name(), q.name(), Kind.WORK, null));
            for (DelayTier t : q.tiers()) {
                out.add(read(q.name(), q.retryQueue(t), Kind.RETRY, t.label()));
            }
            out.add(read(q.name(), q.deadQueue(), Kind.DEAD, null));
        }
        return out;
    }

    /**
     * One work queue whose configuration is not known (no {@code --config}): its retry tiers are found among
     * those of {@code candidates} (e.g. the default policy's and the webhook policy's). The tiers of the first
     * candidate whose tier queues all exist are shown; else those that exist; else, when none does, the first
     * candidate's, as missing. Tiers no candidate uses are not found: pass the configuration for those.
     */
    List<Depth> readDiscoveringTiers(String queue, List<QueueSpec> candidates) {
        Map<DelayTier, Depth> probed = new TreeMap<>();
        for (QueueSpec c : candidates) {
            for (DelayTier t : c.tiers()) {
                probed.computeIfAbsent(t, k -> read(queue, c.retryQueue(k), Kind.RETRY, k.label()));
            }
        }
        List<DelayTier> shown = null;
        for (QueueSpec c : candidates) {
            if (c.tiers().stream().allMatch(t -> probed.get(t).exists())) {
                shown = c.tiers();
                break;
            }
        }
        if (shown == null) {
            shown = probed.values().stream().anyMatch(Depth::exists)
                    ? probed.entrySet().stream().filter(e -> e.getValue().exists()).map(Map.Entry::getKey).toList()
                    : candidates.get(0).tiers();
        }
        List<Depth> out = new ArrayList<>();
        QueueSpec any = candidates.get(0);
        out.add(read(queue, queue, Kind.WORK, null));
        shown.forEach(t -> out.add(probed.get(t)));
        out.add(read(queue, any.deadQueue(), Kind.DEAD, null));
        return out;
    }

    @Override
    public void close() {
        probe.close();
    }

    private Depth read(String workQueue, String queue, Kind kind, @Nullable String tier) {
        return probe.counts(queue)
                .map(c -> new Depth(workQueue, queue, kind, tier, c.messages(), c.consumers()))
                .orElseGet(() -> new Depth(workQueue, queue, kind, tier, null, null));
    }
}
