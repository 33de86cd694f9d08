package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.HopperConfig;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;

/**
 * How to run a console. Immutable; build with {@link #builder}.
 *
 * @param address where to listen (default 127.0.0.1:8700)
 * @param token what mutating requests must carry (at least 8 characters)
 * @param refreshEvery how often each dead queue is re-read in the background (default 30 s)
 * @param indexLimit the most dead letters indexed per queue (default and most: 65,535, one channel's window)
 * @param idleTimeout how long a pass over a dead queue waits for the next message before it ends (default 5 s)
 * @param operator who acts, {@code user@host/console}, for {@code x-hopper-replayed-by} and the audit line
 */
public record ConsoleSettings(BrokerConfig broker, HopperConfig config, InetSocketAddress address, String token,
        Duration refreshEvery, int indexLimit, Duration idleTimeout, String operator, Clock clock) {

    public static final int DEFAULT_PORT = 8700;
    public static final int DEFAULT_INDEX_LIMIT = 65_535;

    public ConsoleSettings {
        requireNonNull(broker, "broker");
        requireNonNull(config, "config");
        requireNonNull(address, "address");
        requireNonNull(token, "token");
        requireNonNull(refreshEvery, "refreshEvery");
        requireNonNull(idleTimeout, "idleTimeout");
        requireNonNull(operator, "operator");
        requireNonNull(clock, "clock");
        if (token.length() < 8) {
            throw new IllegalArgumentException("the console token must have at least 8 characters");
        }
        if (!token.matches("[A-Za-z0-9._~-]+")) {
            throw new IllegalArgumentException("the console token may use letters, digits and . _ ~ - only");
        }
        if (config.queues().isEmpty()) {
            throw new IllegalArgumentException("the console needs at least one work queue");
        }
        if (refreshEvery.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("refresh interval must be at least 1s, was " + refreshEvery);
        }
        if (indexLimit < 1) {
            throw new IllegalArgumentException("index limit must be at least 1, was " + indexLimit);
        }
    }

    public static Builder builder(BrokerConfig broker, HopperConfig config, String token) {
        return new Builder(broker, config, token);
    }

    /** Builds {@link ConsoleSettings}. Not thread-safe. */
    public static final class Builder {
        private final BrokerConfig broker;
        private final HopperConfig config;
        private final String token;
        private InetSocketAddress address = new InetSocketAddress("127.0.0.1", DEFAULT_PORT);
        private Duration refreshEvery = Duration.ofSeconds(30);
        private int indexLimit = DEFAULT_INDEX_LIMIT;
        private Duration idleTimeout = Duration.ofSeconds(5);
        private String operator = "unknown/console";
        private Clock clock = Clock.systemUTC();

        private Builder(BrokerConfig broker, HopperConfig config, String token) {
            this.broker = broker;
            this.config = config;
            this.token = token;
        }

        public Builder address(InetSocketAddress value) {
            this.address = value;
            return this;
        }

        public Builder refreshEvery(Duration value) {
            this.refreshEvery = value;
            return this;
        }

        public Builder indexLimit(int value) {
            this.indexLimit = value;
            return this;
        }

        public Builder idleTimeout(Duration value) {
            this.idleTimeout = value;
            return this;
        }

        public Builder operator(String value) {
            this.operator = value;
            return this;
        }

        public Builder clock(Clock value) {
            this.clock = value;
            return this;
        }

        public ConsoleSettings build() {
            return new ConsoleSettings(broker, config, address, token, refreshEvery, indexLimit, idleTimeout,
                    operator, clock);
        }
    }
}
