package dev.hopper.coordination;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.net.URI;
import java.util.UUID;

/**
 * A key namespace unique to one test on the shared Redis, and the means to look at and delete its keys (never
 * FLUSHALL: other engineers' tests use the same server).
 */
final class RedisNamespace implements AutoCloseable {
    private final String prefix;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;

    RedisNamespace(URI redis, String hint) {
        this.prefix = "hopper-test:" + hint + ":" + UUID.randomUUID() + ":";
        this.client = RedisClient.create(RedisURI.create(redis));
        this.connection = client.connect();
    }

    String prefix() {
        return prefix;
    }

    /** Direct access for assertions on the key layout. */
    RedisCommands<String, String> redis() {
        return connection.sync();
    }

    /** Deletes every key of this namespace, then disconnects. */
    @Override
    public void close() {
        try {
            RedisCommands<String, String> redis = connection.sync();
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches(prefix + "*").limit(500));
                if (!page.getKeys().isEmpty()) {
                    redis.del(page.getKeys().toArray(new String[0]));
                }
                cursor = page;
            } while (!cursor.isFinished());
        } finally {
            connection.close();
            client.shutdown();
        }
    }
}
