package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.UriRedactor;
import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * How to reach RabbitMQ. Immutable; build with {@link #builder(URI)} or {@link #fromEnvironment}.
 *
 * <p>{@code amqp://} and {@code amqps://} URIs are accepted. With {@code amqps} Hopper verifies the server's
 * certificate against the JVM's trust store and checks the host name (amqp-client's own {@code setUri} would
 * trust any certificate). A path of {@code /} or none means the default vhost {@code /}; {@code %2F} also works.
 *
 * @param connectionName shown in the broker's management UI and {@code rabbitmqctl list_connections}
 * @param heartbeat how soon a dead peer is noticed (lost network, a frozen broker)
 * @param recoveryInterval pause between automatic reconnection attempts
 */
public record BrokerConfig(URI uri, String connectionName, Duration heartbeat, Duration connectTimeout,
        Duration recoveryInterval) {

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
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("broker URI has no host: " + UriRedactor.redact(uri));
        }
    }

    /** {@code $RABBITMQ_URI} from {@code env}, else {@link #DEFAULT_URI}. */
    public static BrokerConfig fromEnvironment(Map<String, String> env, String connectionName) {
        String v = env.get("RABBITMQ_URI");
        URI uri = v == null || v.isBlank() ? DEFAULT_URI : URI.create(v.trim());
        return builder(uri).connectionName(connectionName).build();
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

        public BrokerConfig build() {
            return new BrokerConfig(uri, connectionName, heartbeat, connectTimeout, recoveryInterval);
        }
    }
}
