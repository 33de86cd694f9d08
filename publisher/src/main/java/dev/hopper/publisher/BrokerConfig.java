package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.UriRedactor;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach RabbitMQ. Immutable; build with {@link #builder(URI)} or {@link #fromEnvironment}.
 *
 * <p>{@code amqp://} and {@code amqps://} URIs are accepted. With {@code amqps} Hopper verifies the server's
 * certificate against the JVM's trust store and checks the host name (amqp-client's own {@code setUri} would
 * trust any certificate). A path of {@code /} or none means the default vhost {@code /}; {@code %2F} also works.
 *
 * <p><b>Clusters.</b> A URI may name several nodes of one cluster, as
 * {@code amqp://user:pass@rabbit1:5672,rabbit2:5672,rabbit3:5672/vhost} ({@link #parseUri} also accepts the
 * same as comma-separated URIs). Every node shares the scheme, credentials and vhost. A connection tries the nodes
 * in a random order (amqp-client's {@code ListAddressResolver} shuffles them on every connect and every automatic
 * recovery), so clients spread over the cluster and a lost node's clients reconnect to the others. IPv6 literals
 * are accepted only in a single-node URI ({@code java.net.URI} does not parse a host list with brackets).
 *
 * @param connectionName shown in the broker's management UI and {@code rabbitmqctl list_connections}
 * @param heartbeat how soon a dead peer is noticed (lost network, a frozen broker)
 * @param recoveryInterval pause between automatic reconnection attempts
 * @param dispatchOnIoThread whether consumers' callbacks ({@code handleDelivery} and the rest) run on the
 *     connection's I/O thread, the one that reads frames, instead of being handed to amqp-client's consumer pool
 *     (off by default; see {@link Builder#dispatchOnIoThread})
 */
public record BrokerConfig(URI uri, String connectionName, Duration heartbeat, Duration connectTimeout,
        Duration recoveryInterval, boolean dispatchOnIoThread) {

    /** The URI used when neither a flag nor {@code RABBITMQ_URI} says otherwise. */
    public static final URI DEFAULT_URI = URI.create("amqp://guest:guest@localhost:5672/");

    public BrokerConfig {
        requireNonNull(uri, "uri");
        requireNonNull(connectionName, "connectionName");
        requireNonNull(heartbeat, "heartbeat");
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(recoveryInterval, "recoveryInterval");
        if (!"amqp".equals(uri.getScheme()) && !"amqps".equals(uri.getScheme())) {
            throw new IllegalArgumentException("broker URI must start with amqp:// or amqps://, was "
                    + UriRedactor.redact(uri));
        }
        nodeUris(uri); // throws when a node has no host
    }

    /** A config whose consumers' callbacks run on amqp-client's consumer pool (the default). */
    public BrokerConfig(URI uri, String connectionName, Duration heartbeat, Duration connectTimeout,
            Duration recoveryInterval) {
        this(uri, connectionName, heartbeat, connectTimeout, recoveryInterval, false);
    }

    /**
     * {@code $RABBITMQ_URI} from {@code env} (one URI, a multi-node URI or comma-separated URIs, see
     * {@link #parseUri}), else {@link #DEFAULT_URI}.
     *
     * @throws IllegalArgumentException when {@code RABBITMQ_URI} is set but not a broker URI (password masked)
     */
    public static BrokerConfig fromEnvironment(Map<String, String> env, String connectionName) {
        String v = env.get("RABBITMQ_URI");
        URI uri = v == null || v.isBlank() ? DEFAULT_URI : parseUri(v);
        return builder(uri).connectionName(connectionName).build();
    }

    /**
     * Parses broker addresses as a user writes them: one URI ({@code amqp://u:p@host:5672/vhost}), one URI with
     * several nodes ({@code amqp://u:p@h1:5672,h2:5672/vhost}), or comma-separated URIs of the nodes of one cluster
     * ({@code amqp://u:p@h1:5672/vhost,amqp://h2:5672/vhost}). Comma-separated URIs must agree on scheme, user
     * info and vhost; one that leaves out its user info or path takes the first one's. The result is the multi-node
     * form, which {@link BrokerConfig} accepts.
     *
     * @throws IllegalArgumentException naming the offending address (password masked)
     */
    public static URI parseUri(String text) {
        String t = requireNonNull(text, "text").trim();
        String[] parts = t.split("\\s*,\\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)");
        if (parts.length == 1) {
            return checked(single(t));
        }
        URI first = single(parts[0]);
        if (first.getHost() == null) {
            throw new IllegalArgumentException("with comma-separated URIs, each names one node: "
                    + UriRedactor.redact(first));
        }
        StringBuilder hosts = new StringBuilder();
        for (String part : parts) {
            URI u = single(part);
            if (u.getHost() == null) {
                throw new IllegalArgumentException("with comma-separated URIs, each names one node: "
                        + UriRedactor.redact(u));
            }
            if (!Objects.equals(u.getScheme(), first.getScheme())) {
                throw new IllegalArgumentException("all broker URIs must use the same scheme: " + UriRedactor.redact(u)
                        + " differs from " + UriRedactor.redact(first));
            }
            if (u.getRawUserInfo() != null && !u.getRawUserInfo().equals(first.getRawUserInfo())) {
                throw new IllegalArgumentException("all broker URIs must use the same user and password: "
                        + UriRedactor.redact(u) + " differs from " + UriRedactor.redact(first));
            }
            if (!vhostPath(u).isEmpty() && !vhostPath(u).equals(vhostPath(first))) {
                throw new IllegalArgumentException("all broker URIs must name the same vhost: " + UriRedactor.redact(u)
                        + " differs from " + UriRedactor.redact(first));
            }
            hosts.append(hosts.length() == 0 ? "" : ",").append(u.getRawAuthority().substring(
                    u.getRawUserInfo() == null ? 0 : u.getRawUserInfo().length() + 1));
        }
        String userInfo = first.getRawUserInfo() == null ? "" : first.getRawUserInfo() + "@";
        String path = first.getRawPath() == null ? "" : first.getRawPath();
        return checked(single(first.getScheme() + "://" + userInfo + hosts + path));
    }

    private static URI single(String text) {
        try {
            return new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + UriRedactor.redactText(text.trim()) + "' is not a URI like "
                    + "amqp://user:pass@host:5672/vhost (several nodes: amqp://user:pass@h1:5672,h2:5672/vhost)");
        }
    }

    private static URI checked(URI uri) {
        return builder(uri).build().uri();
    }

    /** The path as written, with "/" and "" meaning the same (the default vhost). */
    private static String vhostPath(URI u) {
        String p = u.getRawPath();
        return p == null || p.equals("/") ? "" : p;
    }

    /**
     * One single-node URI per node this config names, in the order written: the same scheme, user info and path
     * as {@link #uri()}, each with one host and port (the scheme's default port when none is given).
     */
    public List<URI> nodeUris() {
        return nodeUris(uri);
    }

    private static List<URI> nodeUris(URI uri) {
        String scheme = uri.getScheme();
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw new IllegalArgumentException("broker URI has no host: " + UriRedactor.redact(uri));
        }
        int at = authority.lastIndexOf('@');
        String userInfo = at < 0 ? "" : authority.substring(0, at + 1);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String defaultPort = "amqps".equals(scheme) ? ":5671" : ":5672";
        List<URI> nodes = new ArrayList<>();
        for (String hostPort : authority.substring(at + 1).split(",", -1)) {
            URI node = hostPort.isBlank() ? null : node(scheme + "://" + userInfo + hostPort.trim() + path);
            if (node != null && node.getHost() != null && node.getPort() < 0) {
                node = node(scheme + "://" + userInfo + hostPort.trim() + defaultPort + path);
            }
            if (node == null || node.getHost() == null) {
                throw new IllegalArgumentException((hostPort.isBlank() && at < 0 && !authority.contains(",")
                        ? "broker URI has no host: " : "broker URI has a node without a valid host[:port] ('"
                                + hostPort + "'): ") + UriRedactor.redact(uri));
            }
            nodes.add(node);
        }
        return List.copyOf(nodes);
    }

    private static @org.jspecify.annotations.Nullable URI node(String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** The URI with its password masked: the only form Hopper logs or prints. */
    public String redactedUri() {
        return UriRedactor.redact(uri);
    }

    /**
     * The virtual host named by the URI's path, percent-decoded once ({@code /} when the path is empty or
     * {@code /}; {@code /%2F} is also {@code /}, {@code /prod} is {@code prod}).
     */
    public String virtualHost() {
        String path = uri.getRawPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            return "/";
        }
        return Uris.decode(path.substring(1));
    }

    @Override
    public String toString() {
        return "BrokerConfig[" + redactedUri() + ", name=" + connectionName + "]";
    }

    public static Builder builder(URI uri) {
        return new Builder(uri);
    }

    /** Builds a {@link BrokerConfig}. Not thread-safe. */
    public static final class Builder {
        private final URI uri;
        private String connectionName = "hopper";
        private Duration heartbeat = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration recoveryInterval = Duration.ofSeconds(2);
        private boolean dispatchOnIoThread;

        private Builder(URI uri) {
            this.uri = requireNonNull(uri, "uri");
        }

        public Builder connectionName(String name) {
            this.connectionName = requireNonNull(name, "name");
            return this;
        }

        public Builder heartbeat(Duration d) {
            this.heartbeat = requireNonNull(d, "heartbeat");
            return this;
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = requireNonNull(d, "connectTimeout");
            return this;
        }

        public Builder recoveryInterval(Duration d) {
            this.recoveryInterval = requireNonNull(d, "recoveryInterval");
            return this;
        }

        /**
         * Runs consumers' callbacks on the connection's I/O thread, the one that reads frames from the socket,
         * instead of handing each batch of deliveries to amqp-client's consumer pool. That saves a thread hop (a
         * park and a wake-up) per batch of deliveries: for {@code Worker}, whose consuming connection sets it,
         * about 15 % less CPU per noop task (docs/benchmarks.md, eleventh session).
         *
         * <p>Only for connections whose consumers never wait in a callback, not on a lock, a future, a store, a
         * confirm, nor on a channel RPC (which would wait for a reply that this very thread has to read: a deadlock
         * until the RPC timeout). While a callback runs, no frame of the connection is read: not other channels'
         * deliveries, not RPC replies, not the broker's heartbeats. Off by default, as amqp-client has it.
         */
        public Builder dispatchOnIoThread(boolean on) {
            this.dispatchOnIoThread = on;
            return this;
        }

        public BrokerConfig build() {
            return new BrokerConfig(uri, connectionName, heartbeat, connectTimeout, recoveryInterval,
                    dispatchOnIoThread);
        }
    }
}
