package dev.hopper.topology.testing;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * The RabbitMQ broker integration tests run against, found as design.md says: {@code $RABBITMQ_URI}, else a
 * broker answering on localhost:5672, else a Testcontainers {@code rabbitmq} container when Docker is available.
 * When none can be had, {@link #get()} throws with instructions: a test that needs a broker fails, it never
 * skips.
 */
public final class TestBroker {
    private static volatile TestBroker resolved;

    private final URI uri;
    private final GenericContainer<?> container;

    private TestBroker(URI uri, GenericContainer<?> container) {
        this.uri = uri;
        this.container = container;
    }

    /** The broker for this test JVM, resolved once. */
    public static synchronized TestBroker get() {
        if (resolved == null) {
            resolved = resolve();
        }
        return resolved;
    }

    private static TestBroker resolve() {
        String env = System.getenv("RABBITMQ_URI");
        if (env != null && !env.isBlank()) {
            return new TestBroker(URI.create(env.trim()), null);
        }
        if (answers("127.0.0.1", 5672)) {
            return new TestBroker(URI.create("amqp://guest:guest@127.0.0.1:5672/"), null);
        }
        List<String> tried = new ArrayList<>(List.of("$RABBITMQ_URI (unset)", "localhost:5672 (no answer)"));
        if (dockerAvailable()) {
            GenericContainer<?> c = new GenericContainer<>("rabbitmq:3.13")
                    .withExposedPorts(5672)
                    .waitingFor(Wait.forLogMessage(".*Server startup complete.*", 1))
                    .withStartupTimeout(Duration.ofMinutes(2));
            c.start();
            return new TestBroker(
                    URI.create("amqp://guest:guest@" + c.getHost() + ":" + c.getMappedPort(5672) + "/"), c);
        }
        tried.add("Testcontainers (no Docker engine)");
        throw new IllegalStateException("integration tests need a RabbitMQ broker and none was found; tried "
                + String.join(", ", tried) + ". Start one with 'rabbitmq-server -detached' (then "
                + "'rabbitmqctl await_startup'), or set RABBITMQ_URI=amqp://user:pass@host:5672/, or start Docker.");
    }

    static boolean answers(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** amqp URI with credentials: for test code only, never printed. */
    public URI uri() {
        return uri;
    }

    /** A new connection factory for this broker (automatic recovery on, as production uses). */
    public ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        try {
            f.setUri(uri);
            if ("/".equals(uri.getRawPath())) {
                // amqp-client reads a bare "/" path as the empty vhost; everyone means the default one.
                f.setVirtualHost("/");
            }
        } catch (Exception e) {
            throw new IllegalStateException("RABBITMQ_URI is not a valid amqp URI", e);
        }
        f.setConnectionTimeout(5000);
        f.setNetworkRecoveryInterval(500);
        return f;
    }

    /** A new connection; the caller closes it. */
    public Connection connect(String name) {
        try {
            return factory().newConnection(name);
        } catch (Exception e) {
            throw new IllegalStateException("cannot connect to the test broker: " + e.getMessage(), e);
        }
    }

    /**
     * Broker-side pids of the open connections whose client-given name ({@code connection_name} in the client
     * properties) is {@code connectionName}, or starts with it when {@code prefix} is true. On RabbitMQ 3.10
     * {@code list_connections name} shows socket addresses, not this name.
     */
    public List<String> connectionPids(String connectionName, boolean prefix) {
        String out = rabbitmqctl("list_connections", "--no-table-headers", "pid", "client_properties");
        String needle = "{\"connection_name\",\"" + connectionName + (prefix ? "" : "\"}");
        List<String> pids = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.contains(needle)) {
                pids.add(line.split("\t")[0].trim());
            }
        }
        return pids;
    }

    /**
     * Closes, from the broker's side, every connection whose client-given name starts with {@code namePrefix};
     * fails the test when there is none, so a test can never pass by closing nothing.
     *
     * @return how many were closed
     */
    public int closeConnections(String namePrefix) {
        List<String> pids = connectionPids(namePrefix, true);
        if (pids.isEmpty()) {
            throw new AssertionError("no open connection named " + namePrefix + "* to close");
        }
        for (String pid : pids) {
            rabbitmqctl("close_connection", pid, "hopper test: forced close");
        }
        return pids.size();
    }

    /**
     * Runs {@code rabbitmqctl} with these arguments against the test broker (inside the container when one was
     * started) and returns its output; fails the test when the command fails.
     */
    public String rabbitmqctl(String... args) {
        try {
            if (container != null) {
                List<String> cmd = new ArrayList<>(List.of("rabbitmqctl"));
                cmd.addAll(List.of(args));
                var r = container.execInContainer(cmd.toArray(new String[0]));
                if (r.getExitCode() != 0) {
                    throw new IllegalStateException("rabbitmqctl failed: " + r.getStderr());
                }
                return r.getStdout();
            }
            List<String> cmd = new ArrayList<>(List.of("rabbitmqctl"));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("rabbitmqctl " + String.join(" ", args) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run rabbitmqctl (is it on PATH?): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running rabbitmqctl", e);
        }
    }
}
