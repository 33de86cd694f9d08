package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.publisher.BrokerConfig;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.publisher.QueueProbe;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.TaskJson;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running dead-letter console: two broker connections (one reads dead queues and carries acknowledgements,
 * one publishes replayed copies, as {@code hopper dlq replay} does), the {@link DeadLetterIndex} with its background
 * refresh (one daemon thread; a queue that is busy with an action is skipped until the next round), and the
 * {@link ConsoleServer}. {@link #close()} stops the server, the refresh and the connections; a read in progress is
 * cut off and the broker puts every message back.
 */
public final class Console implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Console.class);

    private static final java.time.Duration HAND_BACK_WAIT = java.time.Duration.ofSeconds(10);

    private final BrokerConnection read;
    private final BrokerConnection publish;
    private final ScheduledExecutorService refresher;
    private final ConsoleServer server;
    private final DeadLetterIndex index;
    private final QueueLocks locks;
    private final List<String> deadQueues;

    private Console(BrokerConnection read, BrokerConnection publish, ScheduledExecutorService refresher,
            ConsoleServer server, DeadLetterIndex index, QueueLocks locks, List<String> deadQueues) {
        this.read = read;
        this.publish = publish;
        this.refresher = refresher;
        this.server = server;
        this.index = index;
        this.locks = locks;
        this.deadQueues = deadQueues;
    }

    /** A fresh random token: 24 bytes from {@link SecureRandom}, base64url. */
    public static String newToken() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /**
     * Connects, starts serving and starts the background refresh (the first read of every dead queue starts at
     * once).
     *
     * @throws dev.hopper.topology.HopperException when the broker cannot be reached or the address bound
     */
    public static Console start(ConsoleSettings s) {
        requireNonNull(s, "settings");
        BrokerConfig b = s.broker();
        BrokerConnection read = BrokerConnection.open(BrokerConfig.builder(b.uri())
                .connectionName(b.connectionName()).build());
        BrokerConnection publish = null;
        ScheduledExecutorService refresher = null;
        try {
            publish = BrokerConnection.open(BrokerConfig.builder(b.uri())
                    .connectionName(b.connectionName() + "-publish").build());
            ObjectMapper mapper = TaskJson.newMapper().copy();
            QueueLocks locks = new QueueLocks();
            DeadLetterIndex index = new DeadLetterIndex(new DeadQueueReader(read, s.idleTimeout()), s.clock(),
                    s.indexLimit(), new LetterView(mapper));
            DeadLetterActions actions = new DeadLetterActions(read, publish, index, locks, s.clock(),
                    s.idleTimeout(), s.operator());
            refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "hopper-console-index");
                t.setDaemon(true);
                return t;
            });
            ConsoleApi api = new ConsoleApi(s.config(), read, index, actions, locks, mapper,
                    new DetailPrefetch(refresher, locks, index));
            ConsoleServer server = ConsoleServer.start(s.address(), s.token(), api, mapper);
            Console console = new Console(read, publish, refresher, server, index, locks,
                    s.config().queues().values().stream().map(QueueSpec::deadQueue).toList());
            refresher.scheduleWithFixedDelay(() -> console.refreshAll(s), 0, s.refreshEvery().toMillis(),
                    TimeUnit.MILLISECONDS);
            return console;
        } catch (RuntimeException e) {
            if (refresher != null) {
                refresher.shutdownNow();
            }
            if (publish != null) {
                publish.close();
            }
            read.close();
            throw e;
        }
    }

    private void refreshAll(ConsoleSettings s) {
        for (String queue : s.config().queues().keySet()) {
            try {
                locks.tryRun(queue, () -> index.refresh(queue));
            } catch (RuntimeException e) {
                // refresh() already records failures in the snapshot; this is a bug guard for the scheduler.
                log.warn("console refresh failed queue={}: {}", queue, e.toString());
            }
        }
    }

    /** Where it listens (the actual port when started on port 0). */
    public InetSocketAddress address() {
        return server.address();
    }

    /** Ready dead letters and indexed letters of {@code queue} as of its last read: for tests and the command. */
    public long indexedLetters(String queue) {
        return index.snapshot(queue).letters().size();
    }

    /** True once {@code queue}'s dead queue has been read at least once. */
    public boolean indexed(String queue) {
        return index.snapshot(queue).readAt() != null;
    }

    /** True when the letter page of {@code id} would be served without reading the queue. */
    boolean cached(String queue, String id) {
        return index.cached(queue, id).isPresent();
    }

    @Override
    public void close() {
        server.close();
        refresher.shutdownNow();
        try {
            refresher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        read.close(); // every dead letter a reader still held goes back to its queue
        awaitHandBacks();
        publish.close();
    }

    /**
     * Waits (at most {@link #HAND_BACK_WAIT}) until no reader of ours is on any dead queue, so that a command
     * that reads a dead queue right after the console stopped (hopper dlq list) cannot overtake the hand-back and
     * see the queue out of order. The broker offers no notification for "consumer gone": it is polled.
     */
    private void awaitHandBacks() {
        long deadline = System.nanoTime() + HAND_BACK_WAIT.toNanos();
        try (QueueProbe probe = new QueueProbe(publish)) {
            for (String q : deadQueues) {
                while (probe.counts(q).map(c -> c.consumers() > 0).orElse(false) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("could not wait for the dead queues' hand-back: {}", e.toString());
        }
    }
}
