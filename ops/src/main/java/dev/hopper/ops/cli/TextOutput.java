package dev.hopper.ops.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@link Output} for people: aligned tables, indented records, plain sentences. */
final class TextOutput implements Output {
    /** How many rows {@link #details} shows to a person. */
    static final int DETAIL_ROWS = 10;
    private final PrintWriter out;

    TextOutput(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void table(List<String> columns, List<? extends Map<String, ?>> rows) {
        int[] width = new int[columns.size()];
        List<String[]> cells = new ArrayList<>();
        String[] heading = new String[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            heading[i] = columns.get(i).replace('_', ' ').toUpperCase(Locale.ROOT);
            width[i] = heading[i].length();
        }
        for (Map<String, ?> row : rows) {
            String[] line = new String[columns.size()];
            for (int i = 0; i < columns.size(); i++) {
                line[i] = cell(row.get(columns.get(i)));
                width[i] = Math.max(width[i], line[i].length());
            }
            cells.add(line);
        }
        print(heading, width);
        for (String[] line : cells) {
            print(line, width);
        }
        out.flush();
    }

    private void print(String[] line, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < line.length; i++) {
            if (i > 0) {
                sb.append("  ");
            }
            sb.append(line[i]);
            if (i < line.length - 1) {
                sb.append(" ".repeat(width[i] - line[i].length()));
            }
        }
        out.println(sb);
    }

    /** Cells are never cut: an id or queue name must be copyable from the table. */
    private static String cell(Object value) {
        return value == null ? "-" : text(value).replaceAll("\\s+", " ");
    }

    @Override
    public void record(Map<String, ?> fields) {
        printRecord(fields, "");
        out.flush();
    }

    private void printRecord(Map<String, ?> fields, String indent) {
        fields.forEach((k, v) -> {
            if (v instanceof Map<?, ?> nested) {
                out.println(indent + k + ":");
                @SuppressWarnings("unchecked")
                Map<String, ?> m = (Map<String, ?>) nested;
                printRecord(m, indent + "  ");
            } else if (v != null && text(v).contains("\n")) {
                out.println(indent + k + ":");
                for (String line : text(v).split("\\R", -1)) {
                    out.println(indent + "  " + line);
                }
            } else {
                out.println(indent + k + ": " + (v == null ? "-" : text(v)));
            }
        });
    }

    /** JSON values as a person reads them: scalars bare, structures pretty-printed. */
    private static String text(Object value) {
        if (value instanceof JsonNode node) {
            return node.isValueNode() ? node.asText() : node.toPrettyString();
        }
        return String.valueOf(value);
    }

    @Override
    public void details(List<String> columns, List<? extends Map<String, ?>> rows) {
        if (rows.size() <= DETAIL_ROWS) {
            table(columns, rows);
            return;
        }
        table(columns, rows.subList(0, DETAIL_ROWS));
        out.println("… and " + (rows.size() - DETAIL_ROWS) + " more (--json prints them all)");
        out.flush();
    }

    @Override
    public void result(String text, Map<String, ?> fields) {
        out.println(text);
        out.flush();
    }

    @Override
    public void note(String text) {
        out.println(text);
        out.flush();
    }
}
