package dev.hopper.ops.demo;

import dev.hopper.consumer.PermanentTaskException;
import dev.hopper.consumer.TaskHandler;
import dev.hopper.consumer.Worker;
import dev.hopper.topology.HopperException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The demo's pretend application: four task types whose handlers succeed, fail a few times, fail for good, or
 * fail until {@link #fix()} is called. Each run notes its error for the narration of the same thread's
 * settlement ({@link #takeLastError()}). Thread-safe.
 */
final class DemoShop {
    static final String EMAIL = "email.welcome";
    static final String CHARGE = "card.charge";
    static final String RESIZE = "image.resize";
    static final String SYNC = "crm.sync";

    /** What the demo publishes, in order: type and JSON payload. */
    static final List<Map.Entry<String, String>> TASKS = List.of(
            Map.entry(EMAIL, "{\"to\":\"ada@example.com\"}"),
            Map.entry(EMAIL, "{\"to\":\"grace@example.com\"}"),
            Map.entry(EMAIL, "{\"to\":\"linus@example.com\"}"),
            Map.entry(CHARGE, "{\"order\":1042,\"cents\":1999}"),
            Map.entry(RESIZE, "{\"image\":\"cat.png\"}"),
            Map.entry(SYNC, "{\"customer\":77}"));

    /** How many runs of {@link #CHARGE} fail before one succeeds. */
    static final int CHARGE_FAILURES = 2;

    private final AtomicBoolean fixed = new AtomicBoolean();
    private final ThreadLocal<@Nullable String> lastError = new ThreadLocal<>();

    /** Registers the four handlers. */
    void register(Worker.Builder worker) {
        worker.handler(EMAIL, byte[].class, handler(attempt -> { }))
                .handler(CHARGE, byte[].class, handler(attempt -> {
                    if (attempt < CHARGE_FAILURES) {
                        throw new HopperException("payment gateway timed out");
                    }
                }))
                .handler(RESIZE, byte[].class, handler(attempt -> {
                    if (!fixed.get()) {
                        throw new PermanentTaskException("image is 0 bytes, nothing to resize");
                    }
                }))
                .handler(SYNC, byte[].class, handler(attempt -> {
                    if (!fixed.get()) {
                        throw new HopperException("CRM answered 503 Service Unavailable");
                    }
                }));
    }

    /** The bug fix: from now on every handler succeeds. */
    void fix() {
        fixed.set(true);
    }

    /** The error of this thread's last run, or null when it succeeded; clears it. */
    @Nullable String takeLastError() {
        String e = lastError.get();
        lastError.remove();
        return e;
    }

    /** One run's behaviour by attempt (runs before this one); throws to fail. */
    private interface Behaviour {
        void run(int attempt);
    }

    private TaskHandler<byte[]> handler(Behaviour b) {
        return (payload, ctx) -> {
            lastError.remove();
            try {
                b.run(ctx.attempt());
            } catch (RuntimeException e) {
                lastError.set((e instanceof PermanentTaskException ? "failed for good: " : "failed: ")
                        + e.getMessage());
                throw e;
            }
        };
    }
}
