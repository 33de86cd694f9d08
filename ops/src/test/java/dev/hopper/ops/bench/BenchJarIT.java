package dev.hopper.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.topology.testing.TestBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged command, as a user runs it: {@code java -jar target/hopper.jar bench --tasks 200 --json}. */
class BenchJarIT {

    @Test
    void packagedJarPrintsOneJsonReport(@TempDir Path dir) throws Exception {
        Path jar = Path.of("target", "hopper.jar").toAbsolutePath();
        assertThat(jar).exists();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path stdout = dir.resolve("out.json");
        Process p = new ProcessBuilder(List.of(java, "-jar", jar.toString(), "--uri", TestBroker.get().uri().toString(),
                "bench", "--tasks", "200", "--json"))
                .redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        boolean exited = p.waitFor(120, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
        }

        assertThat(exited).as("hopper bench exited within 120s").isTrue();
        assertThat(p.exitValue()).isZero();
        List<String> lines = Files.readAllLines(stdout, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(1);
        JsonNode report = new ObjectMapper().readTree(lines.get(0));
        assertThat(report.get("published").asLong()).isEqualTo(200);
        assertThat(report.get("completed").asLong()).isEqualTo(200);
        assertThat(report.get("clean").asBoolean()).isTrue();
        assertThat(report.at("/config/tasks").asLong()).isEqualTo(200);
        assertThat(report.at("/config/uri").asText()).doesNotContain("guest:guest");
        assertThat(report.at("/latency/count").asLong()).isEqualTo(200);
        assertThat(report.has("completionRate")).isTrue();
        assertThat(report.has("workerCpuSeconds")).isTrue();
        assertThat(report.has("heapEndBytes")).isTrue();
    }
}
