package dev.hopper.consumer;

import dev.hopper.topology.testing.TestRedis;
import io.lettuce.core.RedisClient;
import java.util.List;

/** Test fixture: deletes what a test wrote to the shared Redis under its own key namespace. */
final class TestRedisKeys {
    private TestRedisKeys() {}

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
