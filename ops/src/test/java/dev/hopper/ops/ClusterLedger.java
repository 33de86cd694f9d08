package dev.hopper.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The ledger of one cluster fault run: what the publishers attempted and the broker confirmed, what the workers
 * completed (from {@link LedgerHandler}'s files) and what was dead-lettered, and the derived figures: lost (a
 * confirmed or resent task neither completed nor dead), duplicate runs, unexpected runs (a task never published),
 * and how quickly completions came back after the fault. Not thread-safe.
 */
final class ClusterLedger {
    final Set<String> attempted = new HashSet<>();
    final Set<String> confirmed = new HashSet<>();
    final Set<String> unknown = new HashSet<>();
    final Set<String> notSent = new HashSet<>();
    final Set<String> resentConfirmed = new HashSet<>();
    final Set<String> dead = new HashSet<>();
    /** Handler runs per message id. */
    final Map<String, Integer> runs = new HashMap<>();
    /** Completions per epoch second. */
    final TreeMap<Long, Integer> perSecond = new TreeMap<>();
    /** When each task was first handed to the publisher (epoch ms). */
    final Map<String, Long> sentAt = new HashMap<>();
    /** Tasks a worker may hold without a backlog: below this many outstanding, the pipeline has caught up. */
    static final int CAUGHT_UP = 48;

    /** Reads every worker's ledger file (again: counts are rebuilt). */
    void readRuns(List<Path> files) throws IOException {
        runs.clear();
        perSecond.clear();
        for (Path f : files) {
            if (!Files.exists(f)) {
                continue;
            }
            for (String line : Files.readAllLines(f, StandardCharsets.US_ASCII)) {
                String[] p = line.split(" ");
                if (p.length != 5) {
                    continue; // a line being written right now
                }
                runs.merge(p[0], 1, Integer::sum);
                perSecond.merge(Long.parseLong(p[4]) / 1000, 1, Integer::sum);
            }
        }
    }

    /** Every task that must end completed or dead: confirmed by the broker, first time or when resent. */
    Set<String> owed() {
        Set<String> s = new HashSet<>(confirmed);
        s.addAll(resentConfirmed);
        return s;
    }

    long lost() {
        return owed().stream().filter(id -> !runs.containsKey(id) && !dead.contains(id)).count();
    }

    long completed() {
        return runs.size();
    }

    long duplicateRuns() {
        return runs.values().stream().mapToLong(n -> n - 1).sum();
    }

    int maxRunsPerId() {
        return runs.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    long unexpected() {
        return runs.keySet().stream().filter(id -> !attempted.contains(id)).count();
    }

    /** Resent tasks (in flight at the fault, so unknown) that ran more than once. */
    long resentRunTwice() {
        return unknown.stream().filter(id -> runs.getOrDefault(id, 0) > 1).count();
    }

    /** Completions per second over the {@code seconds} before {@code faultMillis}. */
    double rateBefore(long faultMillis, int seconds) {
        long end = faultMillis / 1000;
        int sum = 0;
        for (long s = end - seconds; s < end; s++) {
            sum += perSecond.getOrDefault(s, 0);
        }
        return sum / (double) seconds;
    }

    /**
     * Seconds from the fault until completions over a 5 s window first reach 80% of {@code preRate}, or the
     * workers have caught up with what was published by then (with paced publishers the rate cannot exceed the
     * publish rate once the backlog is gone); -1 when neither happens.
     */
    long recoverySeconds(long faultMillis, double preRate) {
        if (perSecond.isEmpty()) {
            return -1;
        }
        long start = faultMillis / 1000;
        for (long s = start; s <= perSecond.lastKey(); s++) {
            int sum = 0;
            for (long w = s; w < s + 5; w++) {
                sum += perSecond.getOrDefault(w, 0);
            }
            if (sum / 5.0 >= 0.8 * preRate || s > start && backlogAt(s * 1000) <= CAUGHT_UP) {
                return s - start;
            }
        }
        return -1;
    }

    /** Seconds from the fault until the tasks outstanding (sent, not yet completed) first fall to the caught-up level. */
    long caughtUpSeconds(long faultMillis) {
        if (perSecond.isEmpty()) {
            return -1;
        }
        long start = faultMillis / 1000;
        for (long s = start + 1; s <= perSecond.lastKey() + 1; s++) {
            if (backlogAt(s * 1000) <= CAUGHT_UP) {
                return s - start;
            }
        }
        return -1;
    }

    /** Tasks sent before {@code millis} minus completions before it. */
    long backlogAt(long millis) {
        long sent = sentAt.values().stream().filter(t -> t < millis).count();
        long done = perSecond.headMap(millis / 1000, false).values().stream().mapToLong(Integer::longValue).sum();
        return sent - done;
    }

    /** Lowest completion rate over a 5 s window in the {@code seconds} after the fault. */
    double lowestRateAfter(long faultMillis, int seconds) {
        long start = faultMillis / 1000;
        double low = Double.MAX_VALUE;
        for (long s = start; s < start + seconds; s++) {
            int sum = 0;
            for (long w = s; w < s + 5; w++) {
                sum += perSecond.getOrDefault(w, 0);
            }
            low = Math.min(low, sum / 5.0);
        }
        return low == Double.MAX_VALUE ? 0 : low;
    }

    static String header() {
        return "| run | fault | published | confirmed | unknown (in flight) | not sent | resent, confirmed "
                + "| completed | dead | lost | duplicate runs (max per id; bound) | resent run twice | unexpected "
                + "| pre-fault /s | lowest 5 s /s | back to 80% (or caught up) after | backlog gone after |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    }

    String row(String run, String fault, int duplicateBound, long faultMillis) {
        double pre = rateBefore(faultMillis, 10);
        long rec = recoverySeconds(faultMillis, pre);
        long caughtUp = caughtUpSeconds(faultMillis);
        return String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d (%d; %d) | %d | %d "
                        + "| %.0f | %.0f | %s | %s |%n", run, fault, attempted.size(), confirmed.size(), unknown.size(),
                notSent.size(), resentConfirmed.size(), completed(), dead.size(), lost(), duplicateRuns(),
                maxRunsPerId(), duplicateBound, resentRunTwice(), unexpected(), pre,
                lowestRateAfter(faultMillis, 40), rec < 0 ? "never" : rec + " s",
                caughtUp < 0 ? "never" : caughtUp + " s");
    }
}
