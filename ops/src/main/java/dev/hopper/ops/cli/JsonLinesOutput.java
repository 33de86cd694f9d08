package dev.hopper.ops.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@link Output} for scripts: every row, record and result is one JSON object on its own line. */
final class JsonLinesOutput implements Output {
    private final PrintWriter out;
    private final ObjectMapper mapper = JsonMapper.builder().disable(SerializationFeature.INDENT_OUTPUT).build();

    JsonLinesOutput(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void table(List<String> columns, List<? extends Map<String, ?>> rows) {
        // Every field of a row, not only the columns a table shows: scripts may want them all.
        for (Map<String, ?> row : rows) {
            line(row);
        }
        out.flush();
    }

    @Override
    public void details(List<String> columns, List<? extends Map<String, ?>> rows) {
        table(columns, rows);
    }

    @Override
    public void note(String text) {
        // Data only: a sentence for people would break a consumer that parses every line.
    }

    @Override
    public void record(Map<String, ?> fields) {
        line(fields);
        out.flush();
    }

    @Override
    public void result(String text, Map<String, ?> fields) {
        line(fields);
        out.flush();
    }

    private void line(Map<String, ?> fields) {
        try {
            out.println(mapper.writeValueAsString(plain(fields)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render output as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Instants as ISO-8601 text; everything else as Jackson renders it. */
    private static Object plain(Object v) {
        if (v instanceof Instant) {
            return v.toString();
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> copy = new LinkedHashMap<>();
            m.forEach((k, x) -> copy.put(String.valueOf(k), x == null ? null : plain(x)));
            return copy;
        }
        if (v instanceof List<?> l) {
            return l.stream().map(x -> x == null ? null : plain(x)).toList();
        }
        return v;
    }
}
