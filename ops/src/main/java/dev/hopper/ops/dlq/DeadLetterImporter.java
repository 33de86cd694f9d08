package dev.hopper.ops.dlq;

import static java.util.Objects.requireNonNull;

import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.ConfirmedChannel;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueNames;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@link DeadLetterJson} lines back into a queue: {@code hopper dlq import}. The whole input is read and
 * checked before anything is published, so a malformed line publishes nothing. Messages are restored as they
 * were exported (properties, headers, payload) minus the broker-owned headers ({@code x-death} and friends),
 * published persistent and mandatory, and each is confirmed by the broker. Use from one thread at a time.
 */
public final class DeadLetterImporter {
    private static final Logger audit = LoggerFactory.getLogger("hopper.audit");
    private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(30);

    /** Where imported messages go. */
    public enum Target {
        /** The dead queue {@code Q.dead}, through {@code hopper.dead} with routing key {@code Q}. */
        DEAD,
        /** The work queue {@code Q}, through {@code hopper.tasks} with routing key {@code Q}. */
        WORK
    }

    private final BrokerConnection connection;
    private final DeadLetterJson json = new DeadLetterJson();
    private final String importedBy;

    public DeadLetterImporter(BrokerConnection connection, String importedBy) {
        this.connection = requireNonNull(connection, "connection");
        this.importedBy = requireNonNull(importedBy, "importedBy");
    }

    /**
     * The next line of {@code in} without its line break, or null at the end. Lines are split on bytes and each is
     * decoded strictly, so bytes that are not UTF-8 (a binary or compressed file) are reported with their line.
     */
    private static @Nullable String readLine(InputStream in, int number) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        boolean any = false;
        while ((b = in.read()) >= 0) {
            any = true;
            if (b == '\n') {
                break;
            }
            line.write(b);
        }
        if (!any) {
            return null;
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(line.toByteArray())).toString();
            return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("line " + number + ": not UTF-8 text (a binary or compressed file?); "
                    + "import reads the JSON lines that 'hopper dlq export' writes", e);
        }
    }

    /**
     * Imports every line of {@code input}, UTF-8 JSON lines (blank lines are skipped), into {@code queue}'s dead or work queue.
     *
     * @return how many messages the broker confirmed
     * @throws IllegalArgumentException naming the line number when a line is malformed (nothing published)
     * @throws HopperException when a publish is not confirmed (the messages before it are in the queue)
     */
    public long importLines(InputStream input, String queue, Target target) throws IOException {
        InputStream in = input instanceof BufferedInputStream ? input : new BufferedInputStream(input);
        QueueNames.checkWorkQueue(queue);
        List<DeadLetterJson.Message> messages = new ArrayList<>();
        String line;
        int number = 0;
        while ((line = readLine(in, number + 1)) != null) {
            number++;
            if (line.isBlank()) {
                continue;
            }
            try {
                messages.add(json.fromLine(line));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + number + ": " + e.getMessage(), e);
            }
        }
        String exchange = target == Target.DEAD ? QueueNames.DEAD_EXCHANGE : QueueNames.TASKS_EXCHANGE;
        long confirmed = 0;
        try (ConfirmedChannel publisher = new ConfirmedChannel(connection, 256, CONFIRM_TIMEOUT, CONFIRM_TIMEOUT)) {
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (DeadLetterJson.Message m : messages) {
                futures.add(publisher.publish(exchange, queue, EnvelopeCodec.republished(m.properties(), Map.of()),
                        m.body()));
            }
            for (CompletableFuture<Void> f : futures) {
                try {
                    f.join();
                    confirmed++;
                } catch (CompletionException e) {
                    throw new HopperException("import into " + target.name().toLowerCase(java.util.Locale.ROOT)
                            + " queue of '" + queue + "' stopped: " + e.getCause().getMessage() + " (" + confirmed
                            + " of " + messages.size() + " confirmed before it)", e.getCause());
                }
            }
        } finally {
            audit.info("dlq import by={} queue={} target={} read={} confirmed={}", importedBy, queue,
                    target.name().toLowerCase(java.util.Locale.ROOT), messages.size(), confirmed);
        }
        return confirmed;
    }
}
