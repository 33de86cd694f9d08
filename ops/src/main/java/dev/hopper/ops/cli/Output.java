package dev.hopper.ops.cli;

import java.util.List;
import java.util.Map;

/**
 * Where a command's results go: human text ({@link TextOutput}) or JSON lines ({@link JsonLinesOutput}), chosen
 * once by {@code --json}. Commands describe results as ordered maps whose keys are the JSON field names; the
 * text form derives its headings from them. Values may be strings, numbers, booleans, instants, lists and
 * nested maps. Not thread-safe: one command writes at a time.
 */
public interface Output {

    /** Rows of the same shape: an aligned table with a heading, or one JSON object per row. */
    void table(List<String> columns, List<? extends Map<String, ?>> rows);

    /** One record in detail: indented {@code key: value} lines, or one JSON object. */
    void record(Map<String, ?> fields);

    /**
     * Rows that scripts want in full but people only need a glimpse of (e.g. one receipt per published task): all
     * of them as JSON lines, or a table of the first few and how many more there are.
     */
    void details(List<String> columns, List<? extends Map<String, ?>> rows);

    /** The outcome of a command: the sentence {@code text}, or {@code fields} as one JSON object. */
    void result(String text, Map<String, ?> fields);

    /** A sentence for people about what was shown (counts, the filter); JSON lines carry only data, so not there. */
    void note(String text);
}
