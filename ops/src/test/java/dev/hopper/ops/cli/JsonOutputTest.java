package dev.hopper.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.ops.cli.HopperCommandTest.Run;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code --json} on every command prints only JSON lines on stdout, errors included (as
 * {@code {"error": ..., "exit_code": ...}}), without a broker: each command is run against a broker that refuses
 * connections, or with a usage error, or (for those that need no broker) to success.
 */
class JsonOutputTest {
    static final ObjectMapper MAPPER = new ObjectMapper();

    /** Arguments that get each command past parsing; a new command without an entry fails the test. */
    static Map<String, List<String>> argsByCommand(Path dir) throws IOException {
        Path tasks = Files.writeString(dir.resolve("tasks.jsonl"), "{\"a\":1}\n", StandardCharsets.UTF_8);
        Map<String, List<String>> m = new TreeMap<>();
        m.put("topology declare", List.of("--queue", "q"));
        m.put("topology verify", List.of("--queue", "q"));
        m.put("publish", List.of("--queue", "q", "--type", "t", "--file", tasks.toString()));
        m.put("dlq list", List.of("--queue", "q"));
        m.put("dlq show", List.of("--queue", "q", "some-id"));
        m.put("dlq replay", List.of("--queue", "q", "--dry-run"));
        m.put("dlq purge", List.of("--queue", "q", "--yes"));
        m.put("dlq export", List.of("--queue", "q", "--file", dir.resolve("out.jsonl").toString()));
        m.put("dlq import", List.of("--queue", "q", "--file", tasks.toString()));
        m.put("dlq groups", List.of("--queue", "q"));
        m.put("stats", List.of("--queue", "q"));
        m.put("revision get", List.of("k"));
        m.put("revision bump", List.of("k"));
        m.put("worker", List.of("--queue", "q", "--builtin", "noop"));
        m.put("demo", List.of());
        m.put("bench", List.of("--tasks", "10"));
        m.put("completion", List.of("bash"));
        m.put("group show", List.of("some-parent-id"));
        m.put("console", List.of("--queue", "q", "--port", "0"));
        return m;
    }

    @Test
    void everyCommandPrintsOnlyJsonLinesOnStdoutErrorsIncluded(@TempDir Path dir) throws Exception {
        Map<String, List<String>> table = argsByCommand(dir);
        List<String> leaves = new ArrayList<>();
        collectLeaves(HopperCommand.commandLine(), "", leaves);
        assertThat(table.keySet()).as("every runnable command has arguments in this test")
                .containsExactlyInAnyOrderElementsOf(leaves);
        for (Map.Entry<String, List<String>> e : table.entrySet()) {
            List<String> args = new ArrayList<>(List.of("--uri", HopperCommandTest.DEAD_BROKER, "--json"));
            args.addAll(List.of(e.getKey().split(" ")));
            args.addAll(e.getValue());
            Run r = HopperCommandTest.run(args.toArray(String[]::new));
            List<JsonNode> lines = jsonLines(e.getKey(), r);
            assertThat(lines).as("%s printed nothing on stdout: %s", e.getKey(), r).isNotEmpty();
            if (r.code() != 0) {
                JsonNode error = lines.get(lines.size() - 1);
                assertThat(error.path("error").asText()).as(e.getKey()).isNotBlank().doesNotContain("s3cret");
                assertThat(error.path("exit_code").asInt()).as(e.getKey()).isEqualTo(r.code());
            }
        }
    }

    @Test
    void usageErrorsAreJsonToo() {
        Run r = HopperCommandTest.run("dlq", "list", "--queue", "q", "--bogus", "--json");
        assertThat(r.code()).isEqualTo(2);
        JsonNode error = jsonLines("usage", r).get(0);
        assertThat(error.path("error").asText()).contains("--bogus");
        assertThat(error.path("exit_code").asInt()).isEqualTo(2);
        assertThat(r.err()).startsWith("hopper: ");
    }

    @Test
    void withoutJsonErrorsStayOffStdout() {
        Run r = HopperCommandTest.run("--uri", HopperCommandTest.DEAD_BROKER, "stats", "--queue", "q");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
    }

    static List<JsonNode> jsonLines(String what, Run r) {
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.out().split("\\R")) {
            if (line.isEmpty()) {
                continue;
            }
            try {
                JsonNode n = MAPPER.readTree(line);
                assertThat(n.isObject()).as("%s: stdout line is a JSON object: %s", what, line).isTrue();
                out.add(n);
            } catch (IOException ex) {
                throw new AssertionError(what + ": stdout line is not JSON: " + line + "\n" + r, ex);
            }
        }
        return out;
    }

    private static void collectLeaves(CommandLine cl, String path, List<String> out) {
        cl.getSubcommands().forEach((name, sub) -> {
            if (name.equals("help")) {
                return; // usage help is for people and stays text
            }
            String p = path.isEmpty() ? name : path + " " + name;
            if (sub.getSubcommands().isEmpty()) {
                out.add(p);
            } else {
                collectLeaves(sub, p, out);
            }
        });
    }
}
