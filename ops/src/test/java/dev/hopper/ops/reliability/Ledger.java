package dev.hopper.ops.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One row of the reliability ledger: what was published (confirmed or unknown), what completed (per message id,
 * from {@link RecordingProvider}'s fsynced lines), what was dead-lettered (by reason) and superseded; and what
 * follows: lost = confirmed − (completed ∪ dead ∪ superseded), duplicates (count and most runs of one id) against
 * the row's stated bound, unexpected = completed − published, false dead letters = healthy tasks dead-lettered,
 * and the recovery time. {@link #write} appends the row to {@code target/reliability/ledger.md} and the details to
 * {@code target/reliability/<row>.txt}; {@link #assertHolds} fails the test unless lost, unexpected and false dead
 * letters are 0 and duplicates are within the bound.
 */
final class Ledger {
    static final Path DIR = Path.of("target", "reliability");

    /** One handler run from the recording file. */
    record Run(String id, long pid, int attempt, String token, long startMs, long endMs, String key) {}

    /**
     * Any handler run as recorded, completed or failed; {@code endMs} = -1 for one cut short by a killed worker.
     * {@code key} is "-" for an unkeyed task, {@code token} "-" without a fencing token.
     */
    record Span(String id, long pid, int attempt, String token, long startMs, long endMs, String key) {}

    private final String row;
    private final String fault;
    private final Set<String> confirmed = new HashSet<>();
    private final Set<String> unknown = new HashSet<>();
    private final Set<String> healthy = new HashSet<>();
    private final Map<String, List<Run>> completed = new HashMap<>();
    private final List<Span> spans = new ArrayList<>();
    private final Map<String, String> dead = new HashMap<>();
    private final Set<String> superseded = new HashSet<>();
    private final Map<String, String> notes = new LinkedHashMap<>();
    private int duplicateBound;
    private String boundWhy = "";
    private long faultAtMs = -1;
    private long faultEndMs = -1;

    Ledger(String row, String fault) {
        this.row = row;
        this.fault = fault;
    }

    Ledger confirmed(String id, boolean healthyTask) {
        confirmed.add(id);
        if (healthyTask) {
            healthy.add(id);
        }
        return this;
    }

    Ledger unknown(String id) {
        unknown.add(id);
        return this;
    }

    Ledger dead(String id, String reason) {
        dead.merge(id, reason, (a, b) -> a + "+" + b);
        return this;
    }

    Ledger superseded(String id) {
        superseded.add(id);
        return this;
    }

    Ledger duplicateBound(int bound, String why) {
        this.duplicateBound = bound;
        this.boundWhy = why;
        return this;
    }

    Ledger faultWindow(long startMs, long endMs) {
        this.faultAtMs = startMs;
        this.faultEndMs = endMs;
        return this;
    }

    Ledger note(String key, Object value) {
        notes.put(key, String.valueOf(value));
        return this;
    }

    /** Reads the recording handler's file: every {@code end} line is a completed run. */
    Ledger completions(Path file) {
        Map<String, String[]> starts = new HashMap<>();
        completed.clear(); // the file is the whole truth: read it again from the start
        spans.clear();
        try {
            if (!Files.exists(file)) {
                return this;
            }
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length != 7) {
                    continue; // a line cut by a kill -9 mid-write is not a completion
                }
                String run = f[1] + "/" + f[2] + "/" + f[3];
                if (f[0].equals("start")) {
                    starts.put(run, f);
                } else if (f[0].equals("end") || f[0].equals("fail")) {
                    String[] s = starts.remove(run);
                    long start = s == null ? Long.parseLong(f[5]) : Long.parseLong(s[5]);
                    if (f[0].equals("end")) {
                        completed.computeIfAbsent(f[1], k -> new ArrayList<>()).add(new Run(f[1],
                                Long.parseLong(f[2]), Integer.parseInt(f[3]), f[4], start, Long.parseLong(f[5]), f[6]));
                    }
                    spans.add(new Span(f[1], Long.parseLong(f[2]), Integer.parseInt(f[3]), f[4], start,
                            Long.parseLong(f[5]), f[6]));
                }
            }
            for (String[] f : starts.values()) { // started, never ended: its worker died mid-task
                spans.add(new Span(f[1], Long.parseLong(f[2]), Integer.parseInt(f[3]), f[4], Long.parseLong(f[5]), -1,
                        f[6]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /**
     * Keyed runs that broke "no two runs of one key at once": two ended runs of a key whose times overlap, or a
     * later run of a key with a fencing token not above the earlier one's. Runs cut short by a killed worker have
     * no end to compare; their tokens are still checked. Empty when the keys held.
     */
    List<String> keyViolations() {
        Map<String, List<Span>> byKey = new TreeMap<>();
        spans.stream().filter(r -> !r.key().equals("-"))
                .forEach(r -> byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r));
        List<String> violations = new ArrayList<>();
        byKey.forEach((key, runs) -> {
            // Ties on the millisecond go by token: two runs of a key cannot both hold it.
            runs.sort(java.util.Comparator.comparingLong(Span::startMs)
                    .thenComparingLong(r -> r.token().equals("-") ? 0 : Long.parseLong(r.token())));
            for (int i = 1; i < runs.size(); i++) {
                Span before = runs.get(i - 1);
                Span after = runs.get(i);
                if (before.endMs() >= 0 && after.startMs() < before.endMs()) {
                    violations.add(key + ": " + after.id() + " started at " + after.startMs() + " before "
                            + before.id() + " ended at " + before.endMs());
                }
                if (!before.token().equals("-") && !after.token().equals("-")
                        && Long.parseLong(after.token()) <= Long.parseLong(before.token())) {
                    violations.add(key + ": token " + after.token() + " (" + after.id() + ") after token "
                            + before.token() + " (" + before.id() + ")");
                }
            }
        });
        return violations;
    }

    /** Every recorded run, ended or cut short. */
    List<Span> spans() {
        return List.copyOf(spans);
    }

    /** The dead reason of every id in the dead queue. */
    java.util.Collection<String> deadReasons() {
        return dead.values();
    }

    int confirmedCount() {
        return confirmed.size();
    }

    int unknownCount() {
        return unknown.size();
    }

    Set<String> completedIds() {
        return completed.keySet();
    }

    Set<String> lost() {
        Set<String> lost = new HashSet<>(confirmed);
        lost.removeAll(completed.keySet());
        lost.removeAll(dead.keySet());
        lost.removeAll(superseded);
        return lost;
    }

    /** Extra runs of an id, plus ids that both completed and sit in the dead queue (a replay's in-flight copies). */
    int duplicates() {
        int both = (int) completed.keySet().stream().filter(dead::containsKey).count();
        return completed.values().stream().mapToInt(r -> r.size() - 1).sum() + both;
    }

    int maxRunsPerId() {
        return completed.values().stream().mapToInt(List::size).max().orElse(0);
    }

    Set<String> unexpected() {
        Set<String> u = new HashSet<>(completed.keySet());
        u.removeAll(confirmed);
        u.removeAll(unknown);
        return u;
    }

    Set<String> falseDead() {
        Set<String> f = new HashSet<>(dead.keySet());
        f.retainAll(healthy);
        return f;
    }

    /**
     * From the end of the fault to the start of the first task that started after it and completed (work flowing
     * again, not a handler that merely finished); -1 when there was none or no fault window.
     */
    long recoveryMs() {
        if (faultEndMs < 0) {
            return -1;
        }
        return completed.values().stream().flatMap(List::stream).mapToLong(Run::startMs).filter(t -> t >= faultEndMs)
                .min().stream().map(t -> t - faultEndMs).findFirst().orElse(-1);
    }

    boolean passes() {
        return lost().isEmpty() && unexpected().isEmpty() && falseDead().isEmpty() && duplicates() <= duplicateBound
                && keyViolations().isEmpty();
    }

    /** Writes the details and appends the table row. */
    void write() {
        try {
            Files.createDirectories(DIR);
            Map<String, Integer> byReason = new TreeMap<>();
            dead.values().forEach(r -> byReason.merge(r, 1, Integer::sum));
            List<String> out = new ArrayList<>();
            out.add("row: " + row);
            out.add("fault: " + fault);
            out.add("published: confirmed=" + confirmed.size() + " unknown=" + unknown.size());
            out.add("completed ids: " + completed.size() + " (runs " + (completed.size() + duplicates()) + ")");
            out.add("dead by reason: " + byReason);
            out.add("superseded: " + superseded.size());
            out.add("lost: " + lost().size() + " " + sample(lost()));
            out.add("duplicates: " + duplicates() + " (max runs of one id " + maxRunsPerId() + "), bound "
                    + duplicateBound + " (" + boundWhy + ")");
            out.add("unexpected: " + unexpected().size() + " " + sample(unexpected()));
            out.add("false dead letters: " + falseDead().size() + " " + sample(falseDead()));
            out.add("key violations (overlapping runs of a key, fencing token not rising): " + keyViolations().size()
                    + " " + keyViolations().stream().limit(5).toList());
            out.add("recovery: " + (recoveryMs() < 0 ? "n/a" : recoveryMs() + " ms") + (faultAtMs < 0 ? ""
                    : " (fault lasted " + Duration.ofMillis(faultEndMs - faultAtMs).toMillis() + " ms)"));
            notes.forEach((k, v) -> out.add(k + ": " + v));
            out.add("verdict: " + (passes() ? "PASS" : "FAIL"));
            Files.write(DIR.resolve(row + ".txt"), out, StandardCharsets.UTF_8);
            Path table = DIR.resolve("ledger.md");
            if (!Files.exists(table)) {
                Files.writeString(table, "| row | fault | published (confirmed/unknown) | completed | dead by reason "
                        + "| lost | duplicates / bound | unexpected | false dead | recovery | result |\n"
                        + "|---|---|---|---|---|---|---|---|---|---|---|\n", StandardCharsets.UTF_8);
            }
            String line = "| " + row + " | " + fault + " | " + confirmed.size() + "/" + unknown.size() + " | "
                    + completed.size() + " | " + (byReason.isEmpty() ? "-" : byReason.toString().replace("|", "/"))
                    + " | " + lost().size() + " | " + duplicates() + " / " + duplicateBound + " | "
                    + unexpected().size() + " | " + falseDead().size() + " | "
                    + (recoveryMs() < 0 ? "n/a" : String.format("%.1f s", recoveryMs() / 1000.0)) + " | "
                    + (passes() ? "pass" : "FAIL") + " |\n";
            Files.writeString(table, line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            System.err.println("ledger " + String.join("; ", out));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the row, then fails the test unless it holds. */
    void writeAndAssert() {
        write();
        assertThat(lost()).as(row + ": lost (confirmed but neither completed, dead nor superseded)").isEmpty();
        assertThat(unexpected()).as(row + ": completed but never published").isEmpty();
        assertThat(falseDead()).as(row + ": healthy tasks dead-lettered").isEmpty();
        assertThat(duplicates()).as(row + ": duplicate runs (bound: " + boundWhy + ")").isLessThanOrEqualTo(
                duplicateBound);
        assertThat(keyViolations()).as(row + ": two runs of one key at once, or a fencing token not rising")
                .isEmpty();
    }

    private static String sample(Set<String> ids) {
        return ids.isEmpty() ? "" : ids.stream().sorted().limit(5).toList().toString();
    }
}
