package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import dev.hopper.topology.UriRedactor;
import dev.hopper.topology.CoordinationSpec;
import java.net.URI;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How {@link RedisCoordinationStore} reaches Redis. Immutable; build with {@link #builder(URI)}.
 *
 * <p>The URI is {@code redis://[[user:]password@]host[:port][/db]}, or {@code rediss://…} for TLS (the server's
 * certificate is verified against the JVM's trust store, host name included). As in Lettuce and redis-cli, a
 * user-info without a colon is the password. The password is never logged or printed: {@link #toString()} and
 * {@link #redactedUri()} mask it.
 *
 * @param namespace prefix of every key the store writes, e.g. {@code hopper:}; stores with different namespaces
 *     share nothing
 * @param operationTimeout how long one store call may wait for Redis before it fails with
 *     {@link StoreUnavailableException}
 * @param connectTimeout how long opening the TCP (and TLS) connection may take
 */
public record RedisStoreConfig(URI uri, String namespace, Duration operationTimeout, Duration connectTimeout) {

    public RedisStoreConfig {
        requireNonNull(uri, "uri");
        requireNonNull(namespace, "namespace");
        requireNonNull(operationTimeout, "operationTimeout");
        requireNonNull(connectTimeout, "connectTimeout");
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
            throw new IllegalArgumentException("Redis URI must start with redis:// or rediss://, was "
                    + UriRedactor.redact(uri));
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("Redis URI has no host: " + UriRedactor.redact(uri));
        }
        if (operationTimeout.isNegative() || operationTimeout.isZero()) {
            throw new IllegalArgumentException("Redis operation timeout must be positive, was " + operationTimeout);
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("Redis connect timeout must be positive, was " + connectTimeout);
        }
    }

    /** The URI with its password masked: the only form Hopper logs or prints. */
    public String redactedUri() {
        return UriRedactor.redact(uri);
    }

    @Override
    public String toString() {
        return "RedisStoreConfig[" + redactedUri() + ", namespace=" + namespace + ", operationTimeout="
                + operationTimeout + ", connectTimeout=" + connectTimeout + "]";
    }

    /** A builder with the defaults of {@link CoordinationSpec#DEFAULT} and a 5 s connect timeout. */
    public static Builder builder(URI uri) {
        return new Builder(uri);
    }

    /**
     * Builds a {@link RedisStoreConfig}. Values set one by one ({@link #namespace}, {@link #operationTimeout}) win
     * over those of {@link #coordination}, whatever the order of the calls. Not thread-safe.
     */
    public static final class Builder {
        private final URI uri;
        private CoordinationSpec coordination = CoordinationSpec.DEFAULT;
        private @Nullable String namespace;
        private @Nullable Duration operationTimeout;
        private Duration connectTimeout = Duration.ofSeconds(5);

        private Builder(URI uri) {
            this.uri = requireNonNull(uri, "uri");
        }

        /**
         * Namespace and operation timeout from the {@code coordination:} section of {@code hopper.yml}, for those
         * of the two not set by their own method.
         */
        public Builder coordination(CoordinationSpec spec) {
            this.coordination = requireNonNull(spec, "spec");
            return this;
        }

        /** Prefix of every key the store writes. Default: the {@link #coordination} namespace, {@code hopper:}. */
        public Builder namespace(String namespace) {
            this.namespace = requireNonNull(namespace, "namespace");
            return this;
        }

        /** Bound on each Redis command. Default: the {@link #coordination} operation timeout. */
        public Builder operationTimeout(Duration d) {
            this.operationTimeout = requireNonNull(d, "operationTimeout");
            return this;
        }

        /** Bound on connecting. Default 5 s. */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = requireNonNull(d, "connectTimeout");
            return this;
        }

        public RedisStoreConfig build() {
            return new RedisStoreConfig(uri, namespace != null ? namespace : coordination.namespace(),
                    operationTimeout != null ? operationTimeout : coordination.operationTimeout(), connectTimeout);
        }
    }
}
