package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import dev.hopper.ops.dlq.DeadLetterBrowser;
import dev.hopper.ops.dlq.DeadLetterPurger;
import dev.hopper.ops.dlq.DeadLetterReplayer;
import dev.hopper.ops.dlq.DlqFilter;
import dev.hopper.ops.dlq.ReplayReport;
import dev.hopper.ops.dlq.ReplayRequest;
import dev.hopper.ops.dlq.ScanReport;
import dev.hopper.publisher.BrokerConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The console's replay and purge: each one turned into a {@link DlqFilter} and handed to the very classes
 * {@code hopper dlq replay|purge} use ({@link DeadLetterReplayer}, {@link DeadLetterPurger}), so the guarantees
 * (publish, broker confirm, then ack; a crash duplicates at most, never loses) and the {@code hopper.audit} line
 * are the same. A purge dry run counts with {@link DeadLetterBrowser}, like {@code hopper dlq list}.
 *
 * <p>Each action runs under the queue's lock (no index refresh reads the queue meanwhile) and refreshes the index
 * afterwards, so the answer carries the new counts. Blocks for as long as the action takes.
 */
final class DeadLetterActions {
    /** How long an action waits for a running refresh or action on the same queue. */
    static final Duration LOCK_WAIT = Duration.ofSeconds(120);

    private final BrokerConnection consume;
    private final BrokerConnection publish;
    private final DeadLetterIndex index;
    private final QueueLocks locks;
    private final Clock clock;
    private final Duration idleTimeout;
    private final String operator;

    /**
     * @param operator who acts, for {@code x-hopper-replayed-by} and the audit line
     */
    DeadLetterActions(BrokerConnection consume, BrokerConnection publish, DeadLetterIndex index, QueueLocks locks,
            Clock clock, Duration idleTimeout, String operator) {
        this.consume = requireNonNull(consume, "consume");
        this.publish = requireNonNull(publish, "publish");
        this.index = requireNonNull(index, "index");
        this.locks = requireNonNull(locks, "locks");
        this.clock = requireNonNull(clock, "clock");
        this.idleTimeout = requireNonNull(idleTimeout, "idleTimeout");
        this.operator = requireNonNull(operator, "operator");
    }

    /** Replays (or, in a dry run, counts) what {@code request} selects. */
    Map<String, Object> replay(String queue, ActionRequest request) {
        return locks.with(queue, LOCK_WAIT, () -> {
            DlqFilter filter = filter(queue, request);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("action", "replay");
            out.put("dryRun", request.dryRun());
            out.put("filter", filter == null ? "nothing (no indexed letter has this key)" : filter.describe());
            if (filter == null) {
                return nothingSelected(queue, out);
            }
            ReplayRequest replay = ReplayRequest.builder(queue).filter(filter).to(request.to())
                    .resetAttempts(request.resetAttempts()).dryRun(request.dryRun())
                    .ratePerSecond(request.ratePerSecond()).build();
            ReplayReport report = new DeadLetterReplayer(consume, publish, clock, idleTimeout, operator)
                    .replay(replay, DeadLetterReplayer.Progress.NONE);
            scan(out, report.scan());
            out.put("replayed", report.replayed());
            out.put("failed", report.failed());
            out.put("firstFailure", report.firstFailure());
            out.put("destinations", report.byDestination());
            if (request.dryRun()) {
                List<Map<String, String>> sample = new ArrayList<>();
                for (ReplayReport.Planned p : report.planned()) {
                    if (sample.size() >= 20) {
                        break;
                    }
                    sample.add(Map.of("id", p.letter().messageId(), "destination", p.destination()));
                }
                out.put("sample", sample);
            } else {
                afterChange(queue, out);
            }
            return out;
        });
    }

    /** Purges (or, in a dry run, counts) what {@code request} selects. */
    Map<String, Object> purge(String queue, ActionRequest request) {
        return locks.with(queue, LOCK_WAIT, () -> {
            DlqFilter filter = filter(queue, request);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("action", "purge");
            out.put("dryRun", request.dryRun());
            out.put("filter", filter == null ? "nothing (no indexed letter has this key)" : filter.describe());
            if (filter == null) {
                return nothingSelected(queue, out);
            }
            if (request.dryRun()) {
                AtomicLong n = new AtomicLong();
                ScanReport report = new DeadLetterBrowser(consume, clock, idleTimeout)
                        .browse(queue, filter, letter -> n.incrementAndGet());
                scan(out, report);
                out.put("purged", 0);
            } else {
                ScanReport report = new DeadLetterPurger(consume, clock, idleTimeout, operator).purge(queue, filter);
                scan(out, report);
                out.put("purged", report.matched());
                afterChange(queue, out);
            }
            return out;
        });
    }

    /** The shared filter for a request, or null when it selects nothing (a key no indexed letter has). */
    private @Nullable DlqFilter filter(String queue, ActionRequest request) {
        if (!request.ids().isEmpty()) {
            return DlqFilter.builder().ids(request.ids()).build();
        }
        LetterQuery q = request.query();
        List<String> keyIds = List.of();
        if (q.key() != null) {
            keyIds = index.ids(queue, q, ActionRequest.MAX_IDS + 1);
            if (keyIds.isEmpty()) {
                return null;
            }
            if (keyIds.size() > ActionRequest.MAX_IDS) {
                throw new IllegalArgumentException("key " + q.key() + " selects more than " + ActionRequest.MAX_IDS
                        + " dead letters; narrow the filter");
            }
        }
        return q.toDlqFilter(keyIds);
    }

    private Map<String, Object> nothingSelected(String queue, Map<String, Object> out) {
        out.put("depth", index.snapshot(queue).depth());
        out.put("scanned", 0);
        out.put("selected", 0);
        return out;
    }

    private static void scan(Map<String, Object> out, ScanReport report) {
        out.put("deadQueue", report.deadQueue());
        out.put("depth", report.depth());
        out.put("scanned", report.scanned());
        out.put("selected", report.matched());
        out.put("warning", report.warning().orElse(null));
    }

    private void afterChange(String queue, Map<String, Object> out) {
        IndexSnapshot s = index.refresh(queue);
        out.put("deadAfter", s.depth());
    }
}
