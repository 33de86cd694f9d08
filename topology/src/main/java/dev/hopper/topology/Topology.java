package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Declares and verifies Hopper's broker objects for a {@link HopperConfig} (design.md, "Broker objects"):
 * the {@code hopper.tasks} and {@code hopper.dead} exchanges and, per work queue {@code Q}, the quorum queue
 * {@code Q}, one {@code Q.retry.<tier>} per delay tier and {@code Q.dead}.
 *
 * <p>Every queue that dead-letters gets {@code x-dead-letter-strategy=at-least-once} and
 * {@code x-overflow=reject-publish} (without the second RabbitMQ silently falls back to at-most-once), and work
 * queues always get an explicit {@code x-delivery-limit}.
 *
 * <p>Neither method ever deletes or changes an existing object. Differences are found by re-declaring each
 * object on a throwaway channel: the broker answers PRECONDITION_FAILED naming one differing argument and its
 * current value; Hopper records it and re-declares with the current value until the broker accepts, which
 * lists every difference the broker compares without needing the management plugin. (Arguments the broker does
 * not compare on re-declaration, such as {@code x-delivery-limit} on some versions, cannot be seen this way.)
 *
 * <p>Thread-safe: holds only the immutable config. Each call opens and closes its own channels on the given
 * connection.
 */
public final class Topology {
    private static final Logger log = LoggerFactory.getLogger(Topology.class);
    private static final int MAX_PROBES_PER_OBJECT = 32;
    /**
     * Used when a queue is created and compared by the broker on re-declaration, but not a difference Hopper
     * reports: a queue created before the setting (or with another cluster size) is as good, and its members are
     * checked by counting them instead ({@link #expectedGroupSizes}).
     */
    static final String QUORUM_GROUP_SIZE = "x-quorum-initial-group-size";
    private static final Pattern INEQUIVALENT = Pattern.compile(
            "inequivalent arg '([^']+)' for (?:queue|exchange) '.*?' in vhost '.*?': "
                    + "received (none|the value '(.*?)' of type '(\\w+)'|'(.*?)') "
                    + "but current is (none|the value '(.*)' of type '(\\w+)'|'(.*)')$",
            Pattern.DOTALL);

    private final HopperConfig config;

    public Topology(HopperConfig config) {
        this.config = requireNonNull(config, "config");
    }

    public HopperConfig config() {
        return config;
    }

    /** Arguments of the work queue {@code Q}. */
    public static Map<String, Object> workQueueArguments(QueueSpec q) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("x-queue-type", "quorum");
        a.put("x-dead-letter-exchange", QueueNames.DEAD_EXCHANGE);
        a.put("x-dead-letter-strategy", "at-least-once");
        a.put("x-overflow", "reject-publish");
        a.put("x-delivery-limit", q.deliveryLimit());
        return a;
    }

    /** Arguments of the delay queue {@code Q.retry.<tier>}: TTL, then dead-letter back into {@code Q}. */
    public static Map<String, Object> retryQueueArguments(QueueSpec q, DelayTier tier) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("x-queue-type", "quorum");
        a.put("x-message-ttl", tier.ttlMillis());
        a.put("x-dead-letter-exchange", QueueNames.TASKS_EXCHANGE);
        a.put("x-dead-letter-routing-key", q.name());
        a.put("x-dead-letter-strategy", "at-least-once");
        a.put("x-overflow", "reject-publish");
        return a;
    }

    /**
     * {@code x-delivery-limit} of every {@code Q.dead}. Reading dead letters ({@code dlq list}, {@code groups},
     * {@code export}) returns them to the queue, which RabbitMQ 4.x counts as a delivery, and a dead queue has no
     * dead-letter exchange: under 4.x's default limit of 20 the 21st look would silently drop them. -1 (4.x's
     * "unlimited") is never used: 3.10.8 drops a message on its first return with it.
     */
    public static final int DEAD_QUEUE_DELIVERY_LIMIT = 1_000_000_000;

    /**
     * Arguments of the dead-letter queue {@code Q.dead}: a huge explicit {@code x-delivery-limit}
     * ({@link #DEAD_QUEUE_DELIVERY_LIMIT}), never absent and never -1; without a {@link QueueSpec#deadRetention()}
     * no TTL, so dead letters stay until replayed or purged; with one, {@code x-message-ttl} (the queue has no
     * dead-letter exchange, so an expired dead letter is dropped).
     */
    public static Map<String, Object> deadQueueArguments(QueueSpec q) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("x-queue-type", "quorum");
        a.put("x-delivery-limit", DEAD_QUEUE_DELIVERY_LIMIT);
        if (q.deadRetention() != null) {
            a.put("x-message-ttl", q.deadRetention().toMillis());
        }
        return a;
    }

    /** Every object for the configured queues, exchanges first. */
    List<BrokerObject> objects() {
        List<BrokerObject> out = new ArrayList<>();
        out.add(BrokerObject.exchange(QueueNames.TASKS_EXCHANGE, "direct"));
        out.add(BrokerObject.exchange(QueueNames.DEAD_EXCHANGE, "direct"));
        for (QueueSpec q : config.queues().values()) {
            out.add(BrokerObject.queue(q.name(), replicated(workQueueArguments(q), q), QueueNames.TASKS_EXCHANGE,
                    q.name()));
            for (DelayTier t : q.tiers()) {
                // Retry copies are published to the tier queue by name (default exchange): no binding needed.
                out.add(BrokerObject.queue(q.retryQueue(t), replicated(retryQueueArguments(q, t), q), null, null));
            }
            out.add(BrokerObject.queue(q.deadQueue(), replicated(deadQueueArguments(q), q), QueueNames.DEAD_EXCHANGE,
                    q.name()));
        }
        return out;
    }

    /** {@code args} plus the queue's {@code x-quorum-initial-group-size}, when it sets one. */
    private static Map<String, Object> replicated(Map<String, Object> args, QueueSpec q) {
        if (q.quorumGroupSize() < 1) {
            return args;
        }
        Map<String, Object> a = new LinkedHashMap<>(args);
        a.put(QUORUM_GROUP_SIZE, q.quorumGroupSize());
        return a;
    }

    /**
     * The names of the quorum queues of {@code config} with the group size each should have (queues that set
     * none are left out): what an under-replication check compares the broker's member counts with.
     */
    public static Map<String, Integer> expectedGroupSizes(HopperConfig config) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (QueueSpec q : config.queues().values()) {
            if (q.quorumGroupSize() > 0) {
                out.put(q.name(), q.quorumGroupSize());
                q.tiers().forEach(t -> out.put(q.retryQueue(t), q.quorumGroupSize()));
                out.put(q.deadQueue(), q.quorumGroupSize());
            }
        }
        return out;
    }

    /**
     * Creates what is missing and checks what exists. Idempotent: a second call is a no-op.
     *
     * @throws TopologyMismatchException listing every difference, when an existing object differs; then nothing
     *     is created, changed or deleted (missing objects are created only when every existing one matches)
     * @throws HopperException when the broker cannot be talked to
     */
    public DeclareReport declare(Connection connection) {
        List<String> created = new ArrayList<>();
        List<String> existing = new ArrayList<>();
        List<VerificationReport.Problem> problems = new ArrayList<>();
        List<BrokerObject> missing = new ArrayList<>();
        // Check everything first: a refused declaration must create nothing (its message says nothing changed).
        for (BrokerObject o : objects()) {
            List<VerificationReport.Problem> found = new ArrayList<>(check(connection, o));
            found.removeIf(p -> {
                if (!isOldDeadQueue(p)) {
                    return false;
                }
                log.warn("{} has no x-delivery-limit (declared by an older Hopper); on RabbitMQ 4.x its dead letters "
                        + "are dropped after 20 reads. Recreate it once drained, or apply a policy with "
                        + "delivery-limit={} to it; 'hopper topology verify' lists it until then", p.object(),
                        DEAD_QUEUE_DELIVERY_LIMIT);
                return true;
            });
            if (found.size() == 1 && found.get(0).missing()) {
                missing.add(o);
            } else if (found.isEmpty()) {
                existing.add(o.describe());
            } else {
                problems.addAll(found);
            }
        }
        if (!problems.isEmpty()) {
            throw new TopologyMismatchException(problems);
        }
        for (BrokerObject o : objects()) {
            if (missing.contains(o)) {
                if (create(connection, o)) {
                    created.add(o.describe());
                } else {
                    // Another process created it between our check and our declaration (workers starting
                    // together), with arguments the broker does not take as equal: check it as an existing object.
                    List<VerificationReport.Problem> found = check(connection, o);
                    if (!found.isEmpty()) {
                        throw new TopologyMismatchException(found);
                    }
                    existing.add(o.describe());
                }
            }
            bind(connection, o);
        }
        if (!created.isEmpty()) {
            log.debug("topology declared created={} existing={}", created.size(), existing.size());
        }
        return new DeclareReport(created, existing);
    }

    /**
     * A dead queue declared by an older Hopper, without {@code x-delivery-limit}: {@link #declare} accepts it
     * (with a warning naming the fix) so upgrading does not stop workers; {@link #verify} still lists it.
     */
    private boolean isOldDeadQueue(VerificationReport.Problem p) {
        return "x-delivery-limit".equals(p.argument()) && p.actual() == null && config.queues().values().stream()
                .anyMatch(q -> p.object().equals(BrokerObject.queue(q.deadQueue(), Map.of(), null, null).describe()));
    }

    /** Checks every object without creating, changing or deleting anything. */
    public VerificationReport verify(Connection connection) {
        List<BrokerObject> objects = objects();
        List<VerificationReport.Problem> problems = new ArrayList<>();
        for (BrokerObject o : objects) {
            problems.addAll(check(connection, o));
        }
        return new VerificationReport(objects.size(), problems);
    }

    private List<VerificationReport.Problem> check(Connection connection, BrokerObject o) {
        if (!exists(connection, o)) {
            return List.of(new VerificationReport.Problem(o.describe(), null, null, null));
        }
        List<VerificationReport.Problem> problems = new ArrayList<>();
        Map<String, Object> args = new HashMap<>(o.arguments());
        Map<String, Object> flags = new HashMap<>(Map.of("durable", true, "auto_delete", false, "exclusive", false));
        String exchangeType = o.exchangeType();
        java.util.Set<String> reported = new java.util.HashSet<>();
        for (int probe = 0; probe < MAX_PROBES_PER_OBJECT; probe++) {
            String refusal = redeclare(connection, o, exchangeType, flags, args);
            if (refusal == null) {
                return problems;
            }
            Matcher m = INEQUIVALENT.matcher(refusal);
            if (!m.find()) {
                problems.add(new VerificationReport.Problem(o.describe(), "declaration", "accepted", refusal));
                return problems;
            }
            String arg = m.group(1);
            String actual = m.group(6).equals("none") ? null : m.group(7) != null ? m.group(7) : m.group(9);
            if (arg.equals(QUORUM_GROUP_SIZE)) {
                // Creation-only: take the broker's value (or its absence) and look for real differences.
                if (actual == null) {
                    args.remove(arg);
                } else {
                    args.put(arg, typed(actual, m.group(8)));
                }
                continue;
            }
            if (!reported.add(arg)) {
                // The broker refuses even its own current value (the AMQP type it reports is not the one it
                // stored): this argument is listed already, and probing cannot get past it.
                return problems;
            }
            // What the configuration needs, not what this probe sent (it may be the broker's value adopted).
            String expected = configured(o, arg, flags);
            if (expected != null && expected.equals(actual)) {
                // Same text, so the stored value has another AMQP type (e.g. "20" as a string). The broker prints
                // some arguments without their types; name ours and say the broker's differs.
                String brokerType = m.group(8) != null ? m.group(8) : "a different AMQP type";
                expected = expected + " (" + amqpType(o.arguments().get(arg)) + ")";
                actual = actual + " (" + brokerType + ")";
            }
            problems.add(new VerificationReport.Problem(o.describe(), arg, expected, actual));
            // Adopt the broker's current value and ask again, to find the next difference.
            if (arg.equals("type") && o.kind() == BrokerObject.Kind.EXCHANGE) {
                exchangeType = actual;
            } else if (flags.containsKey(arg)) {
                flags.put(arg, Boolean.parseBoolean(actual));
            } else if (actual == null) {
                args.remove(arg);
            } else {
                args.put(arg, typed(actual, m.group(8)));
            }
        }
        return problems;
    }

    /** The configured value of {@code arg} as the broker would print it; null when the config leaves it unset. */
    private static @Nullable String configured(BrokerObject o, String arg, Map<String, Object> probeFlags) {
        if (arg.equals("type") && o.kind() == BrokerObject.Kind.EXCHANGE) {
            return o.exchangeType();
        }
        if (probeFlags.containsKey(arg)) {
            return arg.equals("durable") ? "true" : "false"; // Hopper declares durable, never auto-delete/exclusive
        }
        Object v = o.arguments().get(arg);
        return v == null ? null : String.valueOf(v);
    }

    /** The AMQP field type amqp-client writes for a Java value, in the broker's words. */
    private static String amqpType(@Nullable Object v) {
        if (v instanceof Integer) {
            return "signedint";
        }
        if (v instanceof Long) {
            return "long";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        return "string";
    }

    private static Object typed(String value, @Nullable String amqpType) {
        if (amqpType == null) {
            return value;
        }
        switch (amqpType) {
            // The broker compares the AMQP field type too, so answer in the type it reported.
            case "signedint":
                return parseOr(value, Integer::valueOf);
            case "long":
            case "unsignedint":
                return parseOr(value, Long::valueOf);
            case "short":
            case "unsignedbyte":
                return parseOr(value, Short::valueOf);
            case "byte":
                return parseOr(value, Byte::valueOf);
            case "bool":
                return Boolean.parseBoolean(value);
            default:
                return value;
        }
    }

    private static Object parseOr(String value, java.util.function.Function<String, Object> parse) {
        try {
            return parse.apply(value);
        } catch (NumberFormatException e) {
            return value;
        }
    }

    private boolean exists(Connection connection, BrokerObject o) {
        return withChannel(connection, ch -> {
            try {
                if (o.kind() == BrokerObject.Kind.EXCHANGE) {
                    ch.exchangeDeclarePassive(o.name());
                } else {
                    ch.queueDeclarePassive(o.name());
                }
                return true;
            } catch (IOException e) {
                if (replyCode(e) == AMQP.NOT_FOUND) {
                    return false;
                }
                throw e;
            }
        });
    }

    /** Re-declares with these values; returns null when the broker accepted, else its refusal text. */
    private @Nullable String redeclare(Connection connection, BrokerObject o, @Nullable String exchangeType,
            Map<String, Object> flags, Map<String, Object> args) {
        return withChannel(connection, ch -> {
            try {
                if (o.kind() == BrokerObject.Kind.EXCHANGE) {
                    ch.exchangeDeclare(o.name(), requireNonNull(exchangeType), (Boolean) flags.get("durable"),
                            (Boolean) flags.get("auto_delete"), o.arguments());
                } else {
                    ch.queueDeclare(o.name(), (Boolean) flags.get("durable"), (Boolean) flags.get("exclusive"),
                            (Boolean) flags.get("auto_delete"), args);
                }
                return null;
            } catch (IOException e) {
                int code = replyCode(e);
                if (code == AMQP.PRECONDITION_FAILED || code == AMQP.RESOURCE_LOCKED || code == AMQP.ACCESS_REFUSED) {
                    return replyText(e);
                }
                throw e;
            }
        });
    }

    /** Declares a missing object; false when the broker refused because it exists now with other arguments. */
    private boolean create(Connection connection, BrokerObject o) {
        return withChannel(connection, ch -> {
            try {
                if (o.kind() == BrokerObject.Kind.EXCHANGE) {
                    ch.exchangeDeclare(o.name(), requireNonNull(o.exchangeType()), true, false, Map.of());
                } else {
                    ch.queueDeclare(o.name(), true, false, false, o.arguments());
                }
                return true;
            } catch (IOException e) {
                if (replyCode(e) == AMQP.PRECONDITION_FAILED) {
                    return false;
                }
                throw e;
            }
        });
    }

    private void bind(Connection connection, BrokerObject o) {
        if (o.bindExchange() == null) {
            return;
        }
        withChannel(connection, ch -> {
            ch.queueBind(o.name(), o.bindExchange(), requireNonNull(o.bindKey()));
            return null;
        });
    }

    @FunctionalInterface
    private interface ChannelWork<T> {
        T run(Channel ch) throws IOException;
    }

    private static <T> T withChannel(Connection connection, ChannelWork<T> work) {
        Channel ch;
        try {
            ch = connection.createChannel();
        } catch (IOException | AlreadyClosedException e) {
            throw new HopperException("cannot open a channel to the broker: " + e.getMessage(), e);
        }
        if (ch == null) {
            throw new HopperException("the broker refused a new channel (channel_max reached)");
        }
        try {
            return work.run(ch);
        } catch (IOException | AlreadyClosedException e) {
            throw new HopperException("broker call failed: " + describe(e), e);
        } finally {
            try {
                if (ch.isOpen()) {
                    ch.close();
                }
            } catch (IOException | TimeoutException | AlreadyClosedException ignored) {
                // The channel was closed by the broker's error reply already; nothing left to release.
            }
        }
    }

    private static int replyCode(Exception e) {
        ShutdownSignalException s = shutdownSignal(e);
        if (s != null && s.getReason() instanceof AMQP.Channel.Close close) {
            return close.getReplyCode();
        }
        return -1;
    }

    private static String replyText(Exception e) {
        ShutdownSignalException s = shutdownSignal(e);
        if (s != null && s.getReason() instanceof AMQP.Channel.Close close) {
            return close.getReplyText();
        }
        return String.valueOf(e.getMessage());
    }

    private static @Nullable ShutdownSignalException shutdownSignal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException s) {
                return s;
            }
        }
        return null;
    }

    private static String describe(Exception e) {
        ShutdownSignalException s = shutdownSignal(e);
        return s != null ? replyText(e) : String.valueOf(e.getMessage());
    }
}
