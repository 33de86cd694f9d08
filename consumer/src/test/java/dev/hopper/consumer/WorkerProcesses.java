package dev.hopper.consumer;

import dev.hopper.topology.testing.TestBroker;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Starts {@link TestWorkerMain} JVMs on the test classpath and reads their sink file. */
final class WorkerProcesses implements AutoCloseable {
    private final List<Process> started = new ArrayList<>();
    private final Path dir;
    final Path sink;
    final Path config;

    WorkerProcesses(Path dir, String yaml) throws IOException {
        this.dir = dir;
        this.sink = dir.resolve("sink.log");
        this.config = dir.resolve("hopper.yml");
        Files.writeString(config, yaml);
        Files.writeString(sink, "");
    }

    Process start(TestBroker broker, String queue, String... redisUriAndNamespace) throws IOException {
        return startWithHeartbeat(broker, queue, Duration.ofSeconds(10), redisUriAndNamespace);
    }

    Process startWithHeartbeat(TestBroker broker, String queue, Duration heartbeat, String... redisUriAndNamespace)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-Dhopper.test.heartbeat=" + heartbeat.toSeconds(),
                "-cp", System.getProperty("java.class.path"),
                TestWorkerMain.class.getName(), broker.uri().toString(), config.toString(), queue, sink.toString()));
        cmd.addAll(List.of(redisUriAndNamespace));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectErrorStream(true);
        pb.redirectOutput(dir.resolve("worker-" + started.size() + ".out").toFile());
        Process p = pb.start();
        started.add(p);
        return p;
    }

    List<String> lines() throws IOException {
        return Files.readAllLines(sink, StandardCharsets.UTF_8);
    }

    /** Occurrences per message id of lines starting with {@code verb}. */
    Map<String, Integer> count(String verb) throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        for (String l : lines()) {
            if (l.startsWith(verb + " ")) {
                out.merge(l.substring(verb.length() + 1), 1, Integer::sum);
            }
        }
        return out;
    }

    /** One run of a keyed task, from a {@code span} line of {@link TestWorkerMain} (times in epoch micros). */
    record Span(String key, long token, long start, long end, String id, int lockWaits) {}

    /** Every {@code span} line so far. */
    List<Span> spans() throws IOException {
        List<Span> out = new ArrayList<>();
        for (String l : lines()) {
            if (l.startsWith("span ")) {
                String[] f = l.split(" ");
                out.add(new Span(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]), f[5],
                        Integer.parseInt(f[6])));
            }
        }
        return out;
    }

    /** Asserts that runs of one key, in start order, never overlap and carry growing fencing tokens. */
    static void assertOneAtATime(List<Span> runsOfOneKey) {
        List<Span> runs = new ArrayList<>(runsOfOneKey);
        runs.sort(java.util.Comparator.comparingLong(Span::start));
        for (int i = 1; i < runs.size(); i++) {
            Span prev = runs.get(i - 1);
            Span next = runs.get(i);
            org.assertj.core.api.Assertions.assertThat(next.start())
                    .as("runs of %s overlap: %s and %s", next.key(), prev, next).isGreaterThanOrEqualTo(prev.end());
            org.assertj.core.api.Assertions.assertThat(next.token()).as("token of %s must grow", next.key())
                    .isGreaterThan(prev.token());
        }
    }

    long readyCount() throws IOException {
        return lines().stream().filter(l -> l.startsWith("ready ")).count();
    }

    String output(int i) throws IOException {
        File f = dir.resolve("worker-" + i + ".out").toFile();
        return f.exists() ? Files.readString(f.toPath()) : "";
    }

    @Override
    public void close() {
        for (Process p : started) {
            p.destroyForcibly();
        }
    }
}
