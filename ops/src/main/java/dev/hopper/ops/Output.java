package dev.hopper.ops;

import java.util.List;
import java.util.Map;

/**
 * Where a command's results go: human text ({@link TextOutput}) or JSON lines ({@link JsonLinesOutput}), chosen
 * once by {@code --json}. Commands describe results as ordered maps whose keys are the JSON field names; the
 * text form derives its headings from them. Values may be strings, numbers, booleans, instants, lists and
 * nested maps. Not thread-safe: one command writes at a time.
 */
interface Output {

    /** Rows of the same shape: an aligned table with a heading, or one JSON object per row. */
    void table(List<String> columns, List<? extends Map<String, ?>> rows);

    /** One record in detail: indented {@code key: value} lines, or one JSON object. */
    void record(Map<String, ?> fields);

    /** The outcome of a command: the sentence {@code text}, or {@code fields} as one JSON object. */
    void result(String text, Map<String, ?> fields);
}
