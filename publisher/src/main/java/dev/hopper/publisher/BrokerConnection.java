package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import dev.hopper.topology.HopperException;
import java.io.IOException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One RabbitMQ connection with heartbeats and automatic recovery, plus the broker's flow-control state
 * ({@code connection.blocked} during a memory or disk alarm).
 *
 * <p>Use one connection for publishing and another for consuming, as RabbitMQ advises: a blocked publishing
 * connection must not stall a worker's acks. Thread-safe. Automatic recovery reopens the connection and the
 * channels on it after a network failure, but not a channel the broker closed on its own (a channel error or a
 * consumer timeout): owners of channels watch for that themselves.
 */
public final class BrokerConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerConnection.class);
    /**
     * Longest any synchronous broker RPC on this connection's channels may take (channel open, declare, qos,
     * consume, cancel, close...), instead of amqp-client's default of 10 minutes: past it the call fails with a
     * timeout and the caller's retry or error path takes over.
     */
    public static final Duration RPC_TIMEOUT = Duration.ofSeconds(15);

    private final BrokerConfig config;
    private final Connection connection;
    private final Object blockLock = new Object();
    private volatile @Nullable String blockedReason;
    /** When the current block started (System.nanoTime), valid while blockedReason is set; guarded by blockLock. */
    private long blockedSinceNanos;
    /** Total time of blocks that have ended; guarded by blockLock. */
    private long blockedEndedNanos;

    private BrokerConnection(BrokerConfig config, Connection connection) {
        this.config = config;
        this.connection = connection;
        connection.addBlockedListener(new BlockedListener() {
            @Override
            public void handleBlocked(String reason) {
                log.warn("broker blocked publishing uri={} reason={}", config.redactedUri(), reason);
                synchronized (blockLock) {
                    if (blockedReason == null) {
                        blockedSinceNanos = System.nanoTime();
                    }
                    blockedReason = reason;
                }
            }

            @Override
            public void handleUnblocked() {
                log.info("broker unblocked publishing uri={}", config.redactedUri());
                synchronized (blockLock) {
                    if (blockedReason != null) {
                        blockedEndedNanos += System.nanoTime() - blockedSinceNanos;
                    }
                    blockedReason = null;
                    blockLock.notifyAll();
                }
            }
        });
        if (connection instanceof Recoverable r) {
            r.addRecoveryListener(new RecoveryListener() {
                @Override
                public void handleRecovery(Recoverable recoverable) {
                    log.info("broker connection recovered uri={} name={} node={}", config.redactedUri(),
                            config.connectionName(), connectedNode());
                }

                @Override
                public void handleRecoveryStarted(Recoverable recoverable) {
                    log.warn("broker connection lost, recovering uri={} name={}", config.redactedUri(),
                            config.connectionName());
                }
            });
        }
    }

    /**
     * Connects.
     *
     * @throws BrokerUnavailableException naming the URI (password masked) and what to do
     */
    public static BrokerConnection open(BrokerConfig config) {
        requireNonNull(config, "config");
        ConnectionFactory f = factory(config);
        List<Address> addresses = addresses(config);
        HandshakeQuietExceptionHandler handler = new HandshakeQuietExceptionHandler();
        f.setExceptionHandler(handler);
        try {
            // Several nodes: amqp-client wraps them in a ListAddressResolver, which shuffles them on every connect
            // and every automatic recovery, so a lost node's connections come back on the other nodes.
            Connection c = addresses.size() == 1 ? f.newConnection(config.connectionName())
                    : f.newConnection(addresses, config.connectionName());
            BrokerConnection bc = new BrokerConnection(config, c);
            handler.opened();
            return bc;
        } catch (IOException | TimeoutException | RuntimeException e) {
            throw new BrokerUnavailableException(config.redactedUri(), f.getUsername(), f.getVirtualHost(), e);
        }
    }

    /** The nodes of a config as amqp-client addresses, in the order written (the client shuffles them). */
    static List<Address> addresses(BrokerConfig config) {
        return config.nodeUris().stream().map(u -> new Address(u.getHost(), u.getPort())).toList();
    }

    /**
     * The amqp-client factory for a config, set to its first node (a single-node config connects there; a
     * multi-node one passes {@link #addresses} at connect); exposed to the package for tests of the URI handling.
     */
    static ConnectionFactory factory(BrokerConfig config) {
        var uri = config.nodeUris().get(0);
        ConnectionFactory f = new ConnectionFactory();
        boolean tls = "amqps".equals(uri.getScheme());
        f.setHost(uri.getHost());
        f.setPort(uri.getPort());
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            f.setUsername(Uris.decode(colon < 0 ? userInfo : userInfo.substring(0, colon)));
            if (colon >= 0) {
                f.setPassword(Uris.decode(userInfo.substring(colon + 1)));
            }
        }
        f.setVirtualHost(config.virtualHost()); // already decoded
        if (tls) {
            try {
                // Verify the certificate chain with the JVM trust store and the host name: never trust-all.
                f.useSslProtocol(SSLContext.getDefault());
                f.enableHostnameVerification();
            } catch (NoSuchAlgorithmException e) {
                throw new HopperException("this JVM has no default TLS context for amqps", e);
            }
        }
        f.setRequestedHeartbeat((int) Math.max(1, config.heartbeat().toSeconds()));
        f.setConnectionTimeout((int) config.connectTimeout().toMillis());
        f.setHandshakeTimeout((int) Math.max(config.connectTimeout().toMillis(), 10_000));
        f.setChannelRpcTimeout((int) RPC_TIMEOUT.toMillis());
        f.setAutomaticRecoveryEnabled(true);
        f.setTopologyRecoveryEnabled(true);
        f.setNetworkRecoveryInterval(config.recoveryInterval().toMillis());
        if (config.dispatchOnIoThread()) {
            // amqp-client runs consumer work through this executor (and never shuts down one it was given): running
            // it on the calling thread is running it on the I/O thread that queued it.
            f.setSharedExecutor(new CallingThreadExecutor());
        }
        return f;
    }

    public BrokerConfig config() {
        return config;
    }

    public String redactedUri() {
        return config.redactedUri();
    }

    /** The underlying connection, for code that needs amqp-client directly (Topology, consumers). */
    public Connection amqp() {
        return connection;
    }

    public boolean isOpen() {
        return connection.isOpen();
    }

    /**
     * The node this connection is on now, as {@code host:port} (after a recovery, the node it recovered onto; with
     * several nodes configured it may differ from the first).
     */
    public String connectedNode() {
        return connection.getAddress().getHostAddress() + ":" + connection.getPort();
    }

    /**
     * A new channel.
     *
     * @throws HopperException when the connection is down or the broker refuses a channel
     */
    public Channel openChannel() {
        try {
            Channel ch = connection.createChannel();
            if (ch == null) {
                throw new HopperException("the broker refused a new channel (channel_max reached) on "
                        + redactedUri());
            }
            return ch;
        } catch (IOException | RuntimeException e) {
            if (e instanceof HopperException h) {
                throw h;
            }
            throw new HopperException("cannot open a channel on " + redactedUri() + ": " + e.getMessage(), e);
        }
    }

    /** The broker's reason while it blocks publishing on this connection, else null. */
    public @Nullable String blockedReason() {
        return blockedReason;
    }

    /**
     * Total time the broker has blocked this connection so far, the current block included: a monotonic counter
     * for excluding blocked time from confirm timeouts.
     */
    public long blockedNanosTotal() {
        synchronized (blockLock) {
            return blockedEndedNanos + (blockedReason == null ? 0 : System.nanoTime() - blockedSinceNanos);
        }
    }

    /**
     * Waits until the broker unblocks this connection.
     *
     * @return true when unblocked (or never blocked), false when still blocked after {@code max}
     */
    public boolean awaitUnblocked(Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        synchronized (blockLock) {
            while (blockedReason != null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                blockLock.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /**
     * Closes the connection (and every channel on it), returning within about 6 seconds even when the broker
     * blocks it (a blocked broker never answers the close: the socket is dropped after 5 s). Also stops automatic
     * recovery when the connection is down at that moment (closing only an open connection would let recovery
     * reconnect later).
     */
    @Override
    public void close() {
        // connection.close(5000) drops the socket after 5 s without close-ok, but its write of connection.close can
        // itself wait on a socket a blocked broker no longer reads: bound the whole call.
        BoundedClose.run("connection " + redactedUri(), Duration.ofSeconds(6), () -> {
            try {
                connection.close(5000);
            } catch (IOException | RuntimeException e) {
                // AlreadyClosedException when it was down or closed before: recovery is stopped all the same.
                log.debug("error closing connection uri={}: {}", redactedUri(), e.toString());
            }
        });
    }
}
