package dev.hopper.topology.testing;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.QueueSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Unique queue names per test and their cleanup. Use as a JUnit 5 extension ({@code @ExtendWith(TestQueues.class)})
 * and take a {@code TestQueues} parameter; every name it hands out (and the retry and dead queues of every spec
 * registered) is deleted after the test, so runs never collide and leave nothing behind.
 */
public final class TestQueues implements ParameterResolver, AfterEachCallback {
    private final List<String> names = new ArrayList<>();
    private final List<String> extra = new ArrayList<>();
    private String testName = "test";

    /** A work-queue name unique to this test run: {@code <test>-<hint>-<random>}. */
    public synchronized String name(String hint) {
        String n = (testName + "-" + hint + "-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36))
                .toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "");
        names.add(n);
        return n;
    }

    /** Registers every queue of {@code spec} for deletion after the test; returns {@code spec}. */
    public synchronized QueueSpec track(QueueSpec spec) {
        names.add(spec.name());
        for (DelayTier t : spec.tiers()) {
            extra.add(spec.retryQueue(t));
        }
        return spec;
    }

    /** Registers any other queue name for deletion after the test. */
    public synchronized void trackQueue(String queue) {
        extra.add(queue);
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == TestQueues.class || p.getParameter().getType() == TestBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        if (p.getParameter().getType() == TestBroker.class) {
            return TestBroker.get();
        }
        TestQueues q = e.getStore(ExtensionContext.Namespace.create(TestQueues.class, e.getUniqueId()))
                .getOrComputeIfAbsent("queues", k -> new TestQueues(), TestQueues.class);
        q.testName = e.getTestMethod().map(m -> m.getName()).orElse("test");
        if (q.testName.length() > 40) {
            q.testName = q.testName.substring(0, 40);
        }
        return q;
    }

    @Override
    public void afterEach(ExtensionContext e) throws Exception {
        TestQueues q = e.getStore(ExtensionContext.Namespace.create(TestQueues.class, e.getUniqueId()))
                .get("queues", TestQueues.class);
        if (q != null) {
            q.deleteAll();
        }
    }

    synchronized void deleteAll() throws Exception {
        if (names.isEmpty() && extra.isEmpty()) {
            return;
        }
        List<String> all = new ArrayList<>();
        for (String n : names) {
            all.add(n);
            all.add(QueueNames.deadQueue(n));
        }
        all.addAll(extra);
        try (Connection c = TestBroker.get().connect("hopper-test-cleanup")) {
            for (String n : all) {
                Channel ch = c.createChannel();
                try {
                    ch.queueDelete(n);
                } catch (java.io.IOException ignored) {
                    // Already gone (or never created): nothing to clean up.
                } finally {
                    if (ch.isOpen()) {
                        ch.close();
                    }
                }
            }
        }
        names.clear();
        extra.clear();
    }
}
