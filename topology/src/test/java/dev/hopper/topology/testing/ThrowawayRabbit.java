package dev.hopper.topology.testing;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A RabbitMQ node of this test's own (Debian's {@code rabbitmq-server}), with its own node name, AMQP and
 * distribution ports, data and log folders under a temporary directory, and its own Erlang cookie: faults that
 * would disturb the shared broker (memory alarm, stop_app, kill -9, closing every connection) are staged here.
 *
 * <p>Ports: each engineer/test suite owns a range; pass an AMQP port from it. The distribution port is
 * {@code amqpPort + 20000} (5690 → 25690). Node names are {@code <name>@localhost}.
 *
 * <p>Lifetime: {@link #start} returns when the node accepts AMQP connections. {@link #close()} stops exactly this
 * node (by node name, then by its OS pid if it does not stop) and deletes its folder; a JVM shutdown hook does the
 * same if the test JVM exits without closing it. Every command has a bound; a failing command fails the test with
 * its output.
 *
 * <p>Not thread-safe: drive one node from one test thread.
 */
public final class ThrowawayRabbit implements AutoCloseable {
    private static final Path LIB_BIN = Path.of("/usr/lib/rabbitmq/bin");
    private static final long COMMAND_SECONDS = 60;

    private final String nodeName;
    private final int amqpPort;
    private final int distPort;
    private final Path home;
    private final Thread cleanup;
    private long pid = -1;
    private boolean closed;

    private ThrowawayRabbit(String name, int amqpPort, Path home) {
        this.nodeName = name + "@localhost";
        this.amqpPort = amqpPort;
        this.distPort = amqpPort + 20000;
        this.home = home;
        this.cleanup = new Thread(this::stopQuietly, "throwaway-rabbit-" + name + "-cleanup");
    }

    /**
     * Starts a node and waits until it is up.
     *
     * @param name the node's short name (e.g. {@code rel-alarm}); the node is {@code name@localhost}
     * @param amqpPort its AMQP port, from the caller's own range
     * @param configLines extra {@code rabbitmq.conf} lines, e.g. {@code consumer_timeout = 15000}
     */
    public static ThrowawayRabbit start(String name, int amqpPort, String... configLines) {
        requireNonNull(name, "name");
        if (TestBroker.answers("127.0.0.1", amqpPort)) {
            throw new IllegalStateException("port " + amqpPort + " is already taken: a node from an earlier run may "
                    + "still be up; stop it with 'rabbitmqctl -n " + name + "@localhost stop'");
        }
        Path home;
        try {
            home = Files.createTempDirectory("hopper-" + name + "-");
            List<String> conf = new ArrayList<>(List.of("listeners.tcp.default = " + amqpPort,
                    "loopback_users = none", "log.file.level = info"));
            conf.addAll(List.of(configLines));
            Files.write(home.resolve("rabbitmq.conf"), conf, StandardCharsets.UTF_8);
            Files.writeString(home.resolve("enabled_plugins"), "[].\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare a folder for node " + name, e);
        }
        ThrowawayRabbit node = new ThrowawayRabbit(name, amqpPort, home);
        Runtime.getRuntime().addShutdownHook(node.cleanup);
        try {
            node.boot();
        } catch (RuntimeException | Error e) {
            node.close();
            throw e;
        }
        return node;
    }

    private void boot() {
        run(COMMAND_SECONDS, "rabbitmq-server", "-detached");
        ctl("wait", home.resolve("pid").toString(), "--timeout", "90");
        Matcher m = Pattern.compile("\"(\\d+)\"").matcher(ctl("eval", "os:getpid()."));
        if (!m.find()) {
            throw new IllegalStateException("cannot read the OS pid of " + nodeName);
        }
        pid = Long.parseLong(m.group(1));
    }

    public String nodeName() {
        return nodeName;
    }

    public int amqpPort() {
        return amqpPort;
    }

    /** The node's OS process id (the Erlang VM). */
    public long pid() {
        return pid;
    }

    /** Where this node keeps its data and logs. */
    public Path home() {
        return home;
    }

    public URI uri() {
        return URI.create("amqp://guest:guest@127.0.0.1:" + amqpPort + "/");
    }

    /** A connection factory for this node; automatic recovery on, fast reconnect. */
    public ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(amqpPort);
        f.setVirtualHost("/");
        f.setConnectionTimeout(5000);
        f.setNetworkRecoveryInterval(500);
        return f;
    }

    /** A new connection; the caller closes it. */
    public Connection connect(String connectionName) {
        try {
            return factory().newConnection(connectionName);
        } catch (Exception e) {
            throw new IllegalStateException("cannot connect to " + nodeName + ": " + e.getMessage(), e);
        }
    }

    /** Sets the memory watermark to 0: the node raises its memory alarm and blocks every publishing connection. */
    public void raiseMemoryAlarm() {
        ctl("set_vm_memory_high_watermark", "0");
    }

    /** Restores the default watermark (0.4): the alarm clears and publishers are unblocked. */
    public void clearMemoryAlarm() {
        ctl("set_vm_memory_high_watermark", "0.4");
    }

    /** Closes every client connection from the broker's side; returns how many there were. */
    public int closeAllConnections() {
        int n = connectionCount();
        ctl("close_all_connections", "hopper test: forced close");
        return n;
    }

    /** Open client connections right now. */
    public int connectionCount() {
        String out = ctl("list_connections", "--no-table-headers", "--silent", "pid");
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }

    /** Stops the RabbitMQ application (the Erlang VM stays up): clients lose their connections. */
    public void stopApp() {
        ctl("stop_app");
    }

    /** Starts the application again after {@link #stopApp()}; durable queues and persistent messages survive. */
    public void startApp() {
        ctl("start_app");
        ctl("await_startup", "--timeout", "90");
    }

    /** SIGKILL to this node's VM (its exact pid); returns when the process is gone. */
    public void kill9() {
        long victim = pid;
        if (victim <= 0) {
            throw new IllegalStateException("node " + nodeName + " has no known pid");
        }
        run(10, "kill", "-9", Long.toString(victim));
        ProcessHandle.of(victim).ifPresent(h -> h.onExit().orTimeout(30, TimeUnit.SECONDS).join());
        pid = -1;
    }

    /** Starts the node again on the same data (after {@link #kill9()} or {@link #stop()}). */
    public void restart() {
        try {
            Files.deleteIfExists(home.resolve("pid"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boot();
    }

    /** Stops the node (keeps its data for {@link #restart()}). */
    public void stop() {
        if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            try {
                ctl("stop");
            } finally {
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    kill9();
                }
            }
        }
        pid = -1;
    }

    /** Runs {@code rabbitmqctl -n <this node> args...}; fails with its output when it fails. */
    public String ctl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("rabbitmqctl", "-n", nodeName));
        cmd.addAll(List.of(args));
        return run(COMMAND_SECONDS + 30, cmd.toArray(new String[0]));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stopQuietly();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException alreadyShuttingDown) {
                // The hook is running or about to: it stops the node itself.
            }
        }
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException e) {
            System.err.println("could not stop " + nodeName + " cleanly: " + e.getMessage());
        } finally {
            deleteHome();
        }
    }

    private void deleteHome() {
        try (Stream<Path> files = Files.walk(home)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + home + ": " + e.getMessage());
        }
    }

    private String run(long seconds, String... command) {
        List<String> cmd = new ArrayList<>(List.of(command));
        Path local = LIB_BIN.resolve(cmd.get(0));
        if (Files.isExecutable(local)) {
            // The scripts themselves, not /usr/sbin's wrappers (which switch to the rabbitmq user and its cookie).
            cmd.set(0, local.toString());
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.directory(home.toFile());
        Map<String, String> env = pb.environment();
        env.put("HOME", home.toString()); // own Erlang cookie, never the shared broker's
        env.put("RABBITMQ_NODENAME", nodeName);
        env.put("RABBITMQ_NODE_PORT", Integer.toString(amqpPort));
        env.put("RABBITMQ_DIST_PORT", Integer.toString(distPort));
        env.put("RABBITMQ_MNESIA_BASE", home.resolve("mnesia").toString());
        env.put("RABBITMQ_LOG_BASE", home.resolve("log").toString());
        env.put("RABBITMQ_PID_FILE", home.resolve("pid").toString());
        env.put("RABBITMQ_CONFIG_FILE", home.resolve("rabbitmq").toString());
        env.put("RABBITMQ_ENABLED_PLUGINS_FILE", home.resolve("enabled_plugins").toString());
        env.put("RABBITMQ_ADVANCED_CONFIG_FILE", home.resolve("advanced.config").toString());
        try {
            Path out = Files.createTempFile(home, "cmd-", ".out");
            Process p = pb.redirectOutput(out.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " on " + nodeName + " took over "
                        + seconds + " s: " + Files.readString(out));
            }
            String text = Files.readString(out);
            Files.deleteIfExists(out);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " on " + nodeName + " failed (exit "
                        + p.exitValue() + "): " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command[0] + " (is RabbitMQ installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command[0], e);
        }
    }
}
