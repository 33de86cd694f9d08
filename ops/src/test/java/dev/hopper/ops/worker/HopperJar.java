package dev.hopper.ops.worker;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.TaskEnvelope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the packaged command ({@code target/hopper.jar}, built by the package phase before failsafe runs) as a
 * real process, and publishes tasks the way a producer does. For integration tests in ops.
 */
public final class HopperJar {
    private HopperJar() {}

    /** A finished run. */
    public record Result(int exit, String out, String err) {}

    /** The packaged jar; failsafe runs with the ops module as working directory. */
    public static Path jar() {
        Path jar = Path.of("target", "hopper.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the integration tests with 'mvn verify'");
        }
        // A jar packaged before the last compile runs old code: follow-up tests once failed that way (the command
        // got no HOPPER_FOLLOW_UPS) while the classes under test were right. Refuse it rather than test it.
        Path classes = Path.of("target", "classes");
        try (java.util.stream.Stream<Path> files = Files.walk(classes)) {
            long jarTime = Files.getLastModifiedTime(jar).toMillis();
            Path newer = files.filter(Files::isRegularFile).filter(f -> {
                try {
                    return Files.getLastModifiedTime(f).toMillis() > jarTime;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).findFirst().orElse(null);
            if (newer != null) {
                throw new IllegalStateException(jar + " is older than " + newer + ": repackage it ('mvn verify' "
                        + "runs package before the integration tests)");
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return jar;
    }

    /** Starts {@code hopper args...}; stdout and stderr go to {@code dir/name.out} and {@code dir/name.err}. */
    public static Process start(Path dir, String name, Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("RABBITMQ_URI");
        pb.environment().putAll(env);
        pb.redirectOutput(dir.resolve(name + ".out").toFile());
        pb.redirectError(dir.resolve(name + ".err").toFile());
        return pb.start();
    }

    /** Runs {@code hopper args...} to completion (killed and failed after {@code max}). */
    public static Result run(Path dir, String name, Duration max, String... args) throws Exception {
        Process p = start(dir, name, Map.of(), args);
        if (!p.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("hopper " + String.join(" ", args) + " did not finish within " + max
                    + "; stderr: " + output(dir, name + ".err"));
        }
        return new Result(p.exitValue(), output(dir, name + ".out"), output(dir, name + ".err"));
    }

    public static String output(Path dir, String file) throws IOException {
        Path f = dir.resolve(file);
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    /** Publishes one task to {@code queue} with a broker confirm. */
    public static void publish(Connection c, String queue, String id, String type, String json) throws Exception {
        publish(c, queue, TaskEnvelope.fresh(id, type, null, null, Instant.now(), json.getBytes(StandardCharsets.UTF_8)));
    }

    /** Publishes {@code task} to {@code queue} with a broker confirm. */
    public static void publish(Connection c, String queue, TaskEnvelope task) throws Exception {
        try (Channel ch = c.createChannel()) {
            ch.confirmSelect();
            ch.basicPublish(QueueNames.TASKS_EXCHANGE, queue, true, EnvelopeCodec.properties(task), task.body());
            ch.waitForConfirmsOrDie(10_000);
        }
    }

    /** Ready messages in {@code queue} (passive declare). */
    public static long depth(Connection c, String queue) throws Exception {
        try (Channel ch = c.createChannel()) {
            return ch.queueDeclarePassive(queue).getMessageCount();
        }
    }

    /** Lines of a file, empty when it does not exist yet. */
    public static List<String> lines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    }

    static Duration seconds(long s) {
        return Duration.ofSeconds(s);
    }
}
