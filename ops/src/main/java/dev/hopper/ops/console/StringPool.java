package dev.hopper.ops.console;

import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Shares equal strings while one snapshot is built, so 100,000 letters of ten failure kinds hold ten copies of
 * each class name and frame, not 100,000. Bounded: once {@link #MAX} distinct strings are held, new ones are
 * returned as they are. Not thread-safe; one per snapshot build.
 */
final class StringPool {
    static final int MAX = 10_000;

    private final Map<String, String> strings = new HashMap<>();

    @Nullable String share(@Nullable String s) {
        if (s == null) {
            return null;
        }
        String held = strings.get(s);
        if (held != null) {
            return held;
        }
        if (strings.size() < MAX) {
            strings.put(s, s);
        }
        return s;
    }
}
