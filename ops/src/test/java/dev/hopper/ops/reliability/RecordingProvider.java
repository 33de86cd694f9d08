package dev.hopper.ops.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hopper.consumer.TaskContext;
import dev.hopper.ops.worker.HandlerProvider;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The ledger's handler, loaded into real {@code hopper worker} JVMs with {@code --handler}: for type
 * {@code ledger.task} it appends {@code start} and {@code end} lines (message id, worker pid, attempt, fencing
 * token, epoch ms) to the file named by {@code $HOPPER_LEDGER} and forces each to disk before going on, so a line
 * that is in the file happened even if the JVM is killed right after. Payload: {@code {"sleepMs": N}} makes the
 * task take that long; {@code {"crash": true}} halts the worker JVM mid-task (a crash-looping poison task);
 * {@code {"failWithMessageBytes": N}} fails with an N-byte message (an oversized error).
 */
public final class RecordingProvider implements HandlerProvider {
    @Override
    public void register(Registry registry) {
        Path ledger = Path.of(requireEnv("HOPPER_LEDGER"));
        registry.handler("ledger.task", JsonNode.class, (payload, ctx) -> {
            append(ledger, line("start", ctx));
            if (payload.path("crash").asBoolean(false)) {
                Runtime.getRuntime().halt(137); // as a segfault or the OOM killer would
            }
            int failBytes = payload.path("failWithMessageBytes").asInt(0);
            if (failBytes > 0) {
                // An oversized error: its message and a deep stack must be bounded on the failure path.
                throw new IllegalStateException("x".repeat(failBytes));
            }
            long sleep = payload.path("sleepMs").asLong(0);
            if (sleep > 0) {
                Thread.sleep(sleep);
            }
            append(ledger, line("end", ctx));
        });
    }

    private static String line(String what, TaskContext ctx) {
        return what + " " + ctx.messageId() + " " + ProcessHandle.current().pid() + " " + ctx.attempt() + " "
                + (ctx.fencingToken().isPresent() ? Long.toString(ctx.fencingToken().getAsLong()) : "-") + " "
                + System.currentTimeMillis() + "\n";
    }

    private static synchronized void append(Path file, String line) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
            ch.force(true); // fsync before the handler returns (and so before the ack)
        }
    }

    private static String requireEnv(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(name + " is not set");
        }
        return v;
    }
}
