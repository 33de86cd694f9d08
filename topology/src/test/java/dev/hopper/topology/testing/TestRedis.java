package dev.hopper.topology.testing;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.containers.GenericContainer;

/**
 * The Redis integration tests run against: {@code $REDIS_URI}, else localhost:6379, else a Testcontainers
 * {@code redis} container when Docker is available; else {@link #get()} throws with instructions. Tests that
 * need Redis fail, never skip.
 */
public final class TestRedis {
    private static volatile TestRedis resolved;
    private final URI uri;

    private TestRedis(URI uri) {
        this.uri = uri;
    }

    public static synchronized TestRedis get() {
        if (resolved == null) {
            resolved = resolve();
        }
        return resolved;
    }

    private static TestRedis resolve() {
        String env = System.getenv("REDIS_URI");
        if (env != null && !env.isBlank()) {
            return new TestRedis(URI.create(env.trim()));
        }
        if (TestBroker.answers("127.0.0.1", 6379)) {
            return new TestRedis(URI.create("redis://127.0.0.1:6379"));
        }
        List<String> tried = new ArrayList<>(List.of("$REDIS_URI (unset)", "localhost:6379 (no answer)"));
        if (TestBroker.dockerAvailable()) {
            GenericContainer<?> c = new GenericContainer<>("redis:7").withExposedPorts(6379)
                    .withStartupTimeout(Duration.ofMinutes(2));
            c.start();
            return new TestRedis(URI.create("redis://" + c.getHost() + ":" + c.getMappedPort(6379)));
        }
        tried.add("Testcontainers (no Docker engine)");
        throw new IllegalStateException("integration tests need Redis and none was found; tried "
                + String.join(", ", tried) + ". Start one with 'redis-server --daemonize yes --bind 127.0.0.1 "
                + "--port 6379 --save \"\" --appendonly no', or set REDIS_URI=redis://host:6379, or start Docker.");
    }

    /** redis:// URI, possibly with a password: for test code only, never printed. */
    public URI uri() {
        return uri;
    }
}
