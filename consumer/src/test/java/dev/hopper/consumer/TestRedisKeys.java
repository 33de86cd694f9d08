package dev.hopper.consumer;

import dev.hopper.topology.testing.TestRedis;
import io.lettuce.core.RedisClient;
import java.util.List;

/** Test fixture: looks at and deletes what a test wrote to the shared Redis under its own key namespace. */
final class TestRedisKeys {
    private TestRedisKeys() {}

    /** Whether {@code key} exists in the shared Redis right now. */
    static boolean exists(String key) {
        RedisClient client = RedisClient.create(TestRedis.get().uri().toString());
        try (var c = client.connect()) {
            return c.sync().exists(key) > 0;
        } finally {
            client.shutdown();
        }
    }

    static void deleteNamespace(String namespace) {
        RedisClient client = RedisClient.create(TestRedis.get().uri().toString());
        try (var c = client.connect()) {
            List<String> keys = c.sync().keys(namespace + "*");
            if (!keys.isEmpty()) {
                c.sync().del(keys.toArray(new String[0]));
            }
        } finally {
            client.shutdown();
        }
    }
}
