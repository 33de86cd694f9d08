package dev.hopper.ops;

import dev.hopper.topology.testing.TestBroker;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the packaged {@code target/hopper.jar} as a separate JVM, the way an operator runs it, against the test
 * broker ({@code RABBITMQ_URI} set in its environment). Failsafe runs after {@code package}, with the module
 * directory as working directory, so the jar is there.
 */
final class HopperJar {
    static final Path JAR = Path.of("target/hopper.jar");

    /** What a finished run printed and returned. */
    record Result(int exitCode, String out, String err) {
        List<String> outLines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\\R"));
        }

        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\\R"));
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    private HopperJar() {}

    static ProcessBuilder builder(Map<String, String> env, String... args) {
        dev.hopper.ops.worker.HopperJar.jar(); // exists and is not older than the compiled classes
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("RABBITMQ_URI", TestBroker.get().uri().toString());
        pb.environment().remove("REDIS_URI");
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs to completion (at most two minutes) and returns exit code, stdout and stderr. */
    static Result run(String... args) {
        return run(Map.of(), args);
    }

    static Result run(Map<String, String> env, String... args) {
        try {
            File out = Files.createTempFile("hopper-out", ".txt").toFile();
            File err = Files.createTempFile("hopper-err", ".txt").toFile();
            try {
                Process p = builder(env, args).redirectOutput(out).redirectError(err)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("hopper " + String.join(" ", args) + " did not finish in 120s");
                }
                return new Result(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
                        Files.readString(err.toPath(), StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out.toPath());
                Files.deleteIfExists(err.toPath());
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run hopper.jar: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
