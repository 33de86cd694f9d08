package dev.hopper.ops;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hopper.ops.worker.HandlerProvider;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The recording handler of the cluster ledger runs: registers {@code ledger.task}, which sleeps the payload's
 * {@code ms} and then appends {@code messageId pid attempt startMillis endMillis} to the file named by
 * {@code $HOPPER_LEDGER_FILE}, one {@code write} per line on an {@code O_APPEND} channel, before returning (so
 * before the ack). A worker JVM killed after the write leaves the line in the page cache; these runs kill broker
 * nodes, not machines, so no fsync is needed. Loaded by worker JVMs with {@code --handler} and
 * {@code --classpath target/test-classes}.
 */
public final class LedgerHandler implements HandlerProvider {
    /** The type of every ledger task. */
    public static final String TYPE = "ledger.task";
    private static final long PID = ProcessHandle.current().pid();

    private final FileChannel out;

    public LedgerHandler() throws IOException {
        String file = System.getenv("HOPPER_LEDGER_FILE");
        if (file == null) {
            throw new IllegalStateException("HOPPER_LEDGER_FILE is not set");
        }
        out = FileChannel.open(Path.of(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
    }

    @Override
    public void register(Registry registry) {
        registry.handler(TYPE, JsonNode.class, (payload, ctx) -> {
            long start = System.currentTimeMillis();
            long ms = payload.path("ms").asLong(0);
            if (ms > 0) {
                Thread.sleep(ms);
            }
            String line = ctx.messageId() + " " + PID + " " + ctx.attempt() + " " + start + " "
                    + System.currentTimeMillis() + "\n";
            ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
            synchronized (out) {
                while (b.hasRemaining()) {
                    out.write(b);
                }
            }
        });
    }
}
