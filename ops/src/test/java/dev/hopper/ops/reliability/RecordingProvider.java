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
 * {@code {"failWithMessageBytes": N}} fails with an N-byte message (an oversized error);
 * {@code {"failUntilAttempt": N}} fails while {@code x-hopper-attempt} is below N (a task that needs retries);
 * {@code {"sleepOnceMs": N}} takes N ms on the first run of its message id only (across worker JVMs: a marker
 * file beside the ledger says it ran), e.g. past a broker's consumer timeout once.
 * Lines end with the task's key ({@code -} for none), so a row can check that no two runs of a key overlapped.
 */
public final class RecordingProvider implements HandlerProvider {
    @Override
    public void register(Registry registry) {
        Path ledger = Path.of(requireEnv("HOPPER_LEDGER"));
        registry.handler("ledger.task", JsonNode.class, (payload, ctx) -> {
            append(ledger, line("start", ctx));
            try {
                run(payload, ctx, ledger);
            } catch (Exception | Error e) {
                append(ledger, line("fail", ctx)); // when the run ended, for the rows that check overlaps
                throw e;
            }
            append(ledger, line("end", ctx));
        });
    }

    private static void run(JsonNode payload, TaskContext ctx, Path ledger) throws Exception {
        if (payload.path("crash").asBoolean(false)) {
            Runtime.getRuntime().halt(137); // as a segfault or the OOM killer would
        }
        int failBytes = payload.path("failWithMessageBytes").asInt(0);
        if (failBytes > 0) {
            // An oversized error: its message and a deep stack must be bounded on the failure path.
            throw new IllegalStateException("x".repeat(failBytes));
        }
        if (ctx.attempt() < payload.path("failUntilAttempt").asInt(0)) {
            throw new IllegalStateException("planned failure at attempt " + ctx.attempt());
        }
        long once = payload.path("sleepOnceMs").asLong(0);
        if (once > 0 && firstRun(ledger.resolveSibling(ledger.getFileName() + ".once-" + ctx.messageId()))) {
            Thread.sleep(once);
        }
        long sleep = payload.path("sleepMs").asLong(0);
        if (sleep > 0) {
            Thread.sleep(sleep);
        }
    }

    private static boolean firstRun(Path marker) throws IOException {
        try {
            java.nio.file.Files.createFile(marker); // atomic: exactly one run of the id creates it
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        }
    }

    private static String line(String what, TaskContext ctx) {
        return what + " " + ctx.messageId() + " " + ProcessHandle.current().pid() + " " + ctx.attempt() + " "
                + (ctx.fencingToken().isPresent() ? Long.toString(ctx.fencingToken().getAsLong()) : "-") + " "
                + System.currentTimeMillis() + " " + ctx.key().orElse("-") + "\n";
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
