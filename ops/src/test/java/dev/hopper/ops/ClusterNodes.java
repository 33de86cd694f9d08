package dev.hopper.ops;

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
 * The three throwaway RabbitMQ nodes of {@code ops/cluster/cluster.sh}, driven from a test: the script records
 * the nodes it starts under its own folder and stops exactly those (by node name, then by recorded pid). Ports are
 * the script's (AMQP 5681-5683, distribution 25681-25683). Every call is bounded.
 */
final class ClusterNodes implements AutoCloseable {
    static final Path SCRIPT = Path.of("cluster/cluster.sh");
    static final int NODES = 3;
    static final int FIRST_AMQP_PORT = 5681;

    private final Path dir;

    private ClusterNodes(Path dir) {
        this.dir = dir;
    }

    /** Starts the cluster in a fresh temporary folder; stops what it started if the start fails. */
    static ClusterNodes start() throws IOException {
        ClusterNodes nodes = new ClusterNodes(Files.createTempDirectory("hopper-cluster-it"));
        try {
            nodes.run(600, "start");
        } catch (RuntimeException e) {
            nodes.close();
            throw e;
        }
        return nodes;
    }

    /** {@code amqp://guest:guest@127.0.0.1:5681,127.0.0.1:5682,127.0.0.1:5683/}. */
    String uri() {
        return run(30, "uri").strip();
    }

    static String nodeUri(int node) {
        return "amqp://guest:guest@127.0.0.1:" + (FIRST_AMQP_PORT + node - 1) + "/";
    }

    static String nodeName(int node) {
        return "hopper-c" + node + "@localhost";
    }

    /** The number (1..3) of the node leading {@code queue}. */
    int leader(String queue) {
        return Integer.parseInt(run(120, "leader", queue).strip());
    }

    void kill(int node) {
        run(30, "kill", String.valueOf(node));
    }

    void startNode(int node) {
        run(300, "start-node", String.valueOf(node));
    }

    void stopApp(int node) {
        run(120, "stop-app", String.valueOf(node));
    }

    void startApp(int node) {
        run(300, "start-app", String.valueOf(node));
    }

    /** rabbitmqctl against node 1 with the cluster's cookie. */
    String ctl(String... args) {
        List<String> a = new ArrayList<>(List.of("ctl", "1"));
        a.addAll(List.of(args));
        return run(120, a.toArray(String[]::new));
    }

    /** The folder whose {@code home} holds the cluster's Erlang cookie (for rabbitmqctl run by others). */
    Path home() {
        return dir.resolve("home");
    }

    private String run(int timeoutSeconds, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(SCRIPT.toString());
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("cluster-out", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                pb.environment().putAll(Map.of("HOPPER_CLUSTER_DIR", dir.toString()));
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", cmd) + " did not finish in " + timeoutSeconds
                            + " s: " + Files.readString(out, StandardCharsets.UTF_8));
                }
                String text = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): "
                            + text);
                }
                return text;
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + cmd, e);
        }
    }

    /** Stops exactly the nodes this instance started. */
    @Override
    public void close() {
        run(300, "stop");
    }
}
