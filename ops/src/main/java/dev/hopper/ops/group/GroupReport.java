package dev.hopper.ops.group;

import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.GroupView;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rows and the summary {@code hopper group show} prints for one {@link GroupView}: one row per child in the
 * parent's order, then one for the join. Pure; immutable.
 */
final class GroupReport {
    static final List<String> COLUMNS = List.of("role", "index", "id", "queue", "type", "state", "reason", "result");

    private final GroupView view;

    GroupReport(GroupView view) {
        this.view = requireNonNull(view, "view");
    }

    List<Map<String, Object>> rows() {
        List<Map<String, Object>> rows = new ArrayList<>(view.children().size() + 1);
        for (GroupView.ChildView c : view.children()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("role", "child");
            row.put("index", c.index());
            row.put("id", c.id());
            row.put("queue", c.queue());
            row.put("type", c.type());
            row.put("state", c.state().name().toLowerCase(Locale.ROOT));
            row.put("reason", c.deadReason());
            row.put("result", c.state() == GroupView.State.DONE ? c.hasResult() : null);
            rows.add(row);
        }
        GroupView.JoinView j = view.join();
        if (j != null) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("role", "join");
            row.put("index", null);
            row.put("id", j.id());
            row.put("queue", j.queue());
            row.put("type", j.type());
            row.put("state", j.state().name().toLowerCase(Locale.ROOT));
            row.put("reason", j.deadReason());
            row.put("result", null);
            rows.add(row);
        }
        return rows;
    }

    /** One sentence: how many children are done, which are dead, and where the join stands. */
    String summary() {
        int total = view.children().size();
        long done = view.done();
        List<String> dead = new ArrayList<>();
        for (GroupView.ChildView c : view.children()) {
            if (c.state() == GroupView.State.DEAD) {
                dead.add(c.id() + " (" + c.deadReason() + ")");
            }
        }
        StringBuilder sb = new StringBuilder("parent " + view.parentId() + ": " + done + " of " + total
                + " children done");
        if (!dead.isEmpty()) {
            sb.append(", ").append(dead.size()).append(" dead: ")
                    .append(String.join(", ", dead.subList(0, Math.min(5, dead.size()))));
            if (dead.size() > 5) {
                sb.append(" and ").append(dead.size() - 5).append(" more");
            }
        }
        GroupView.JoinView j = view.join();
        if (j == null) {
            sb.append("; no join");
        } else {
            sb.append("; join ").append(j.id()).append(" (").append(j.type()).append(" on ").append(j.queue())
                    .append("): ").append(joinSentence(j, total - done, dead.size()));
        }
        return sb.toString();
    }

    private static String joinSentence(GroupView.JoinView j, long left, int dead) {
        switch (j.state()) {
            case WAITING:
                return dead > 0 ? "held by " + dead + " dead " + (dead == 1 ? "child" : "children")
                        + " (replay them with 'hopper dlq replay --queue QUEUE --id ID')"
                        : "waiting for " + left + " more";
            case PUBLISHED:
                return "published, not done yet";
            case DONE:
                return "done";
            default:
                return "dead (" + j.deadReason() + ")";
        }
    }
}
