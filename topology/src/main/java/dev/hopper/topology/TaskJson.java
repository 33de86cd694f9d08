package dev.hopper.topology;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The Jackson setup for task payloads, which are untrusted input. Explicit {@link StreamReadConstraints} bound
 * nesting, string and number sizes; trailing tokens are an error; no default typing and no class-name type ids
 * are ever enabled, so a payload cannot choose which class gets instantiated. Payload classes come from the
 * worker's explicit type registry.
 */
public final class TaskJson {
    private TaskJson() {}

    /**
     * A new mapper for payloads. Each call returns a fresh, independently configurable instance; mappers are
     * thread-safe once configured, so create one per component and share it.
     *
     * @param maxStringBytes the longest JSON string accepted (bodies are size-checked before parsing too)
     */
    public static ObjectMapper newMapper(int maxStringBytes) {
        StreamReadConstraints constraints = StreamReadConstraints.builder()
                .maxNestingDepth(200)
                .maxNumberLength(200)
                .maxStringLength(Math.max(1, maxStringBytes))
                .maxNameLength(10_000)
                .build();
        JsonFactoryBuilder factory = new JsonFactoryBuilder()
                .streamReadConstraints(constraints)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
        return JsonMapper.builder(factory.build())
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
    }

    /**
     * One line saying why JSON could not be read, without Jackson's source excerpt: {@code Unexpected end-of-input:
     * expected close marker for Object (line 1, column 8)}. For error messages and dead-letter headers.
     */
    public static String describe(java.io.IOException e) {
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j) {
            // Some messages embed a location with a "[Source: REDACTED (...); line: 1, column: 1]" excerpt.
            String m = String.valueOf(j.getOriginalMessage()).replace('\n', ' ')
                    .replaceAll("\\[Source: [^;]*; ", "[");
            var loc = j.getLocation();
            return loc == null || loc.getLineNr() < 0 ? m : m + " (line " + loc.getLineNr() + ", column "
                    + loc.getColumnNr() + ")";
        }
        return String.valueOf(e.getMessage()).replace('\n', ' ');
    }

    /** A mapper with a 16 MiB string bound. */
    public static ObjectMapper newMapper() {
        return newMapper(16 * 1024 * 1024);
    }
}
