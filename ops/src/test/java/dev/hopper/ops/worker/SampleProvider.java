package dev.hopper.ops.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A user's handler jar in miniature: registers {@code sample.greet}, which appends {@code hello NAME ID} to the
 * file named by {@code $HOPPER_SAMPLE_SINK}. Loaded by name ({@code --handler}) and through
 * META-INF/services ({@code --discover}); the integration test passes this module's test classes with
 * {@code --classpath}, since the packaged jar does not contain them.
 */
public final class SampleProvider implements HandlerProvider {
    /** The payload, read with Jackson. */
    public record Greeting(String name) {}

    @Override
    public void register(Registry registry) {
        registry.handler("sample.greet", Greeting.class, (greeting, ctx) -> {
            String sink = System.getenv("HOPPER_SAMPLE_SINK");
            if (sink == null) {
                throw new IllegalStateException("HOPPER_SAMPLE_SINK is not set");
            }
            append(Path.of(sink), "hello " + greeting.name() + " " + ctx.messageId());
        });
    }

    static synchronized void append(Path file, String line) throws IOException {
        Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }
}
