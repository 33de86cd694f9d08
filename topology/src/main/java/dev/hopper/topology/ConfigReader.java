package dev.hopper.topology;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Walks the YAML tree by hand rather than binding it to classes: that is what lets every error name the exact
 * path of the bad value, and reject unknown keys (a typo like {@code max_attempts} must not silently mean
 * "default"). Problems are collected, not thrown one at a time: a user fixing a config sees every bad setting in
 * one run (the first one of each setting; a setting's sub-values are checked once it parses). One instance per
 * document.
 */
final class ConfigReader {
    private static final Set<String> ROOT_KEYS = Set.of("defaults", "coordination", "queues");
    private static final Set<String> QUEUE_KEYS = Set.of("tiers", "retry", "types", "delivery-limit", "poison-after",
            "concurrency", "prefetch", "handler-timeout", "max-body-bytes", "lock", "breaker", "rate-limit",
            "quorum-initial-group-size", "dead");
    private static final Set<String> DEFAULT_KEYS = Set.of("tiers", "retry", "delivery-limit", "poison-after",
            "concurrency", "prefetch", "handler-timeout", "max-body-bytes", "lock", "breaker", "rate-limit",
            "quorum-initial-group-size", "dead");
    private static final Set<String> RETRY_KEYS =
            Set.of("delays", "schedule", "backoff", "max-attempts", "max-age", "retry-on", "permanent-on");
    private static final Set<String> LOCK_KEYS = Set.of("lease", "max-waits", "superseded", "wait-in-hand");
    private static final Set<String> BREAKER_KEYS =
            Set.of("failure-rate", "minimum-calls", "window", "wait", "half-open-calls");
    private static final Set<String> COORDINATION_KEYS = Set.of("namespace", "done-marker-ttl", "timeout");
    private static final Set<String> DEAD_KEYS = Set.of("retention");

    /** Problems found so far, by message: a bad value under {@code defaults} is reported once, not per queue. */
    private final Map<String, ConfigException> problems = new LinkedHashMap<>();

    /** Runs one independent part of the check; a problem in it is recorded and the reader goes on. */
    private boolean check(Runnable part) {
        try {
            part.run();
            return true;
        } catch (ConfigException e) {
            problems.putIfAbsent(e.getMessage(), e);
            return false;
        }
    }

    HopperConfig read(String yaml) {
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new ConfigException("", "not valid YAML: " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new ConfigException("", "the config is empty; it needs at least 'queues: [name]'");
        }
        requireObject(root, "");
        checkKeys(root, "", ROOT_KEYS);

        JsonNode defaultsNode = root.path("defaults");
        JsonNode defaults = defaultsNode;
        if (!defaultsNode.isMissingNode()) {
            try {
                requireObject(defaultsNode, "defaults");
                checkKeys(defaultsNode, "defaults", DEFAULT_KEYS);
            } catch (ConfigException e) {
                problems.putIfAbsent(e.getMessage(), e);
                defaults = MissingNode.getInstance();
            }
        }
        CoordinationSpec[] coordination = {CoordinationSpec.DEFAULT};
        check(() -> coordination[0] = coordination(root.path("coordination")));

        JsonNode queues = root.path("queues");
        List<QueueSpec> specs = new ArrayList<>();
        if (queues.isMissingNode() || queues.isNull() || queues.isEmpty()) {
            problems.putIfAbsent("queues", new ConfigException("queues", "at least one queue is required"));
        } else if (queues.isArray()) {
            for (int i = 0; i < queues.size(); i++) {
                JsonNode n = queues.get(i);
                String path = "queues[" + i + "]";
                JsonNode d = defaults;
                check(() -> {
                    if (!n.isTextual()) {
                        throw new ConfigException(path, "expected a queue name; use a map 'queues: {name: {...}}' "
                                + "to configure a queue");
                    }
                    addIfBuilt(specs, queue(n.asText(), path, null, d));
                });
            }
        } else {
            JsonNode d = defaults;
            check(() -> {
                requireObject(queues, "queues");
                Iterator<Map.Entry<String, JsonNode>> it = queues.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    check(() -> addIfBuilt(specs, queue(e.getKey(), "queues." + e.getKey(), e.getValue(), d)));
                }
            });
        }
        Map<String, QueueSpec> map = new LinkedHashMap<>();
        for (QueueSpec s : specs) {
            if (map.put(s.name(), s) != null) {
                problems.putIfAbsent("twice " + s.name(),
                        new ConfigException("queues", "queue " + s.name() + " is listed twice"));
            }
        }
        if (!problems.isEmpty()) {
            throw ConfigException.of(List.copyOf(problems.values()));
        }
        try {
            return new HopperConfig(map, coordination[0]);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("queues", e.getMessage());
        }
    }

    private static void addIfBuilt(List<QueueSpec> specs, @Nullable QueueSpec spec) {
        if (spec != null) {
            specs.add(spec);
        }
    }

    /** The queue, or null when a problem in one of its settings was recorded. */
    private @Nullable QueueSpec queue(String name, String path, @Nullable JsonNode node, JsonNode defaults) {
        try {
            QueueNames.checkWorkQueue(name);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
        ObjectNode merged = defaults.isObject() ? ((ObjectNode) defaults).deepCopy() : ((ObjectNode) new YAMLMapper().createObjectNode());
        if (node != null && !node.isNull()) {
            requireObject(node, path);
            checkKeys(node, path, QUEUE_KEYS);
            node.fields().forEachRemaining(e -> merged.set(e.getKey(), e.getValue()));
        }
        // Paths point at where the value came from: the queue if it set it, else defaults.
        Function<String, String> at = key -> (node != null && node.has(key) ? path : "defaults") + "." + key;

        QueueSpec.Builder b = QueueSpec.builder(name);
        boolean ok = true;
        ok &= check(() -> {
            if (merged.has("tiers")) {
                b.tiers(tiers(merged.get("tiers"), at.apply("tiers")));
            }
        });
        ok &= check(() -> {
            if (merged.has("retry")) {
                b.retry(retry(merged.get("retry"), at.apply("retry")));
            }
        });
        ok &= check(() -> {
            if (merged.has("types")) {
                JsonNode types = merged.get("types");
                String typesPath = path + ".types";
                requireObject(types, typesPath);
                types.fields().forEachRemaining(e -> {
                    String tp = typesPath + "." + e.getKey();
                    requireObject(e.getValue(), tp);
                    checkKeys(e.getValue(), tp, Set.of("retry"));
                    if (e.getValue().has("retry")) {
                        b.typeRetry(e.getKey(), retry(e.getValue().get("retry"), tp + ".retry"));
                    }
                });
            }
        });
        ok &= check(() -> {
            if (merged.has("delivery-limit")) {
                b.deliveryLimit(positiveInt(merged.get("delivery-limit"), at.apply("delivery-limit")));
            }
        });
        ok &= check(() -> {
            if (merged.has("poison-after")) {
                b.poisonAfter(positiveInt(merged.get("poison-after"), at.apply("poison-after")));
            }
        });
        ok &= check(() -> {
            if (merged.has("concurrency")) {
                b.concurrency(positiveInt(merged.get("concurrency"), at.apply("concurrency")));
            }
        });
        ok &= check(() -> {
            if (merged.has("prefetch")) {
                b.prefetch(positiveInt(merged.get("prefetch"), at.apply("prefetch")));
            }
        });
        ok &= check(() -> {
            if (merged.has("handler-timeout")) {
                b.handlerTimeout(duration(merged.get("handler-timeout"), at.apply("handler-timeout")));
            }
        });
        ok &= check(() -> {
            if (merged.has("max-body-bytes")) {
                b.maxBodyBytes(positiveInt(merged.get("max-body-bytes"), at.apply("max-body-bytes")));
            }
        });
        ok &= check(() -> {
            if (merged.has("lock")) {
                b.lock(lock(merged.get("lock"), at.apply("lock")));
            }
        });
        ok &= check(() -> {
            if (merged.has("breaker")) {
                b.breaker(breaker(merged.get("breaker"), at.apply("breaker")));
            }
        });
        ok &= check(() -> {
            if (merged.has("dead")) {
                b.deadRetention(deadRetention(merged.get("dead"), at.apply("dead")));
            }
        });
        ok &= check(() -> {
            if (merged.has("rate-limit")) {
                b.rateLimit(positiveInt(merged.get("rate-limit"), at.apply("rate-limit")));
            }
        });
        ok &= check(() -> {
            if (merged.has("quorum-initial-group-size")) {
                b.quorumGroupSize(positiveInt(merged.get("quorum-initial-group-size"),
                        at.apply("quorum-initial-group-size")));
            }
        });
        if (!ok) {
            return null; // its problems are recorded; building it would only add misleading ones
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    /** {@code dead: {retention: 7d}}: how long dead letters stay in {@code Q.dead}; null when not set. */
    private @Nullable Duration deadRetention(JsonNode node, String path) {
        if (node.isNull()) {
            return null;
        }
        requireObject(node, path);
        checkKeys(node, path, DEAD_KEYS);
        if (!node.has("retention") || node.get("retention").isNull()) {
            return null;
        }
        Duration d = duration(node.get("retention"), path + ".retention");
        if (d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
            throw new ConfigException(path + ".retention", "must be between 1ms and 24d (the broker's "
                    + "x-message-ttl is a 32-bit millisecond count), was " + node.get("retention").asText());
        }
        return d;
    }

    private List<DelayTier> tiers(JsonNode node, String path) {
        List<Duration> ds = durations(node, path);
        if (ds.isEmpty()) {
            throw new ConfigException(path, "at least one tier is required");
        }
        List<DelayTier> tiers = new ArrayList<>();
        for (int i = 0; i < ds.size(); i++) {
            try {
                tiers.add(new DelayTier(ds.get(i)));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(path + "[" + i + "]", e.getMessage());
            }
        }
        return tiers;
    }

    private RetryPolicy retry(JsonNode node, String path) {
        requireObject(node, path);
        checkKeys(node, path, RETRY_KEYS);
        List<Duration> delays = node.has("delays") ? durations(node.get("delays"), path + ".delays") : List.of();
        List<RetryPolicy.ScheduleStep> schedule = new ArrayList<>();
        if (node.has("schedule")) {
            JsonNode s = node.get("schedule");
            String sp = path + ".schedule";
            if (!s.isArray()) {
                throw new ConfigException(sp, "expected a list like [{until: 1h, every: 5m}]");
            }
            for (int i = 0; i < s.size(); i++) {
                String ip = sp + "[" + i + "]";
                JsonNode step = s.get(i);
                requireObject(step, ip);
                checkKeys(step, ip, Set.of("until", "every"));
                if (!step.has("until") || !step.has("every")) {
                    throw new ConfigException(ip, "a schedule step needs both 'until' and 'every'");
                }
                try {
                    schedule.add(new RetryPolicy.ScheduleStep(
                            duration(step.get("until"), ip + ".until"), duration(step.get("every"), ip + ".every")));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(ip, e.getMessage());
                }
            }
        }
        RetryPolicy.Backoff backoff = null;
        if (node.has("backoff")) {
            JsonNode bo = node.get("backoff");
            String bp = path + ".backoff";
            requireObject(bo, bp);
            checkKeys(bo, bp, Set.of("initial", "multiplier", "max", "jitter"));
            if (!bo.has("initial") || !bo.has("max")) {
                throw new ConfigException(bp, "backoff needs 'initial' and 'max'");
            }
            try {
                backoff = new RetryPolicy.Backoff(duration(bo.get("initial"), bp + ".initial"),
                        number(bo.path("multiplier"), bp + ".multiplier", 2.0), duration(bo.get("max"), bp + ".max"),
                        number(bo.path("jitter"), bp + ".jitter", 0.5));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(bp, e.getMessage());
            }
        }
        RetryPolicy.Builder policy = RetryPolicy.builder().delays(delays).schedule(schedule).backoff(backoff)
                .retryOn(classNames(node.path("retry-on"), path + ".retry-on"))
                .permanentOn(classNames(node.path("permanent-on"), path + ".permanent-on"));
        if (node.has("max-attempts")) {
            policy.maxAttempts(positiveInt(node.get("max-attempts"), path + ".max-attempts"));
        }
        if (node.has("max-age")) {
            policy.maxAge(duration(node.get("max-age"), path + ".max-age"));
        }
        try {
            return policy.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private LockSpec lock(JsonNode node, String path) {
        requireObject(node, path);
        checkKeys(node, path, LOCK_KEYS);
        Duration lease = node.has("lease") ? duration(node.get("lease"), path + ".lease") : LockSpec.DEFAULT.lease();
        int waits = node.has("max-waits") ? nonNegativeInt(node.get("max-waits"), path + ".max-waits")
                : LockSpec.DEFAULT.maxWaits();
        Duration waitInHand = node.has("wait-in-hand") ? duration(node.get("wait-in-hand"), path + ".wait-in-hand")
                : LockSpec.DEFAULT.waitInHand();
        SupersededPolicy superseded = LockSpec.DEFAULT.superseded();
        if (node.has("superseded")) {
            String v = node.get("superseded").asText();
            superseded = switch (v) {
                case "skip" -> SupersededPolicy.SKIP;
                case "refresh" -> SupersededPolicy.REFRESH;
                default -> throw new ConfigException(path + ".superseded", "\"" + v + "\" is not one of skip, refresh");
            };
        }
        try {
            return new LockSpec(lease, waits, superseded, waitInHand);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    /**
     * {@code breaker: {}} or {@code true} enables a breaker with the defaults, each setting overrides one of them;
     * {@code false} or null means none (e.g. one queue opting out of a breaker under {@code defaults}).
     */
    private @Nullable BreakerSpec breaker(JsonNode node, String path) {
        if (node.isNull() || (node.isBoolean() && !node.booleanValue())) {
            return null;
        }
        if (node.isBoolean()) {
            return BreakerSpec.DEFAULT;
        }
        if (!node.isObject()) {
            throw new ConfigException(path, "expected a map of settings, or true / false");
        }
        checkKeys(node, path, BREAKER_KEYS);
        BreakerSpec d = BreakerSpec.DEFAULT;
        int rate = node.has("failure-rate") ? positiveInt(node.get("failure-rate"), path + ".failure-rate")
                : d.failureRatePercent();
        int minimum = node.has("minimum-calls") ? positiveInt(node.get("minimum-calls"), path + ".minimum-calls")
                : d.minimumCalls();
        int window = node.has("window") ? positiveInt(node.get("window"), path + ".window")
                : Math.max(d.window(), minimum);
        Duration wait = node.has("wait") ? duration(node.get("wait"), path + ".wait") : d.waitInOpen();
        int halfOpen = node.has("half-open-calls") ? positiveInt(node.get("half-open-calls"), path + ".half-open-calls")
                : d.halfOpenCalls();
        try {
            return new BreakerSpec(rate, minimum, window, wait, halfOpen);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private CoordinationSpec coordination(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return CoordinationSpec.DEFAULT;
        }
        String path = "coordination";
        requireObject(node, path);
        checkKeys(node, path, COORDINATION_KEYS);
        CoordinationSpec d = CoordinationSpec.DEFAULT;
        String ns = node.has("namespace") ? text(node.get("namespace"), path + ".namespace") : d.namespace();
        Duration ttl = node.has("done-marker-ttl") ? duration(node.get("done-marker-ttl"), path + ".done-marker-ttl")
                : d.doneMarkerTtl();
        Duration timeout = node.has("timeout") ? duration(node.get("timeout"), path + ".timeout") : d.operationTimeout();
        try {
            return new CoordinationSpec(ns, ttl, timeout);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private static List<Duration> durations(JsonNode node, String path) {
        if (!node.isArray()) {
            throw new ConfigException(path, "expected a list of durations like [5s, 30s, 5m, 1h]");
        }
        List<Duration> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            out.add(duration(node.get(i), path + "[" + i + "]"));
        }
        return out;
    }

    private static Duration duration(JsonNode node, String path) {
        if (!node.isTextual() && !node.isNumber()) {
            throw new ConfigException(path, "expected a duration like 500ms, 30s, 5m, 1h, 1d");
        }
        if (node.isNumber()) {
            throw new ConfigException(path, node.asText() + " has no unit; write it like 30s, 5m, 1h");
        }
        try {
            return DurationText.parse(node.asText());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private static int positiveInt(JsonNode node, String path) {
        int n = intValue(node, path);
        if (n < 1) {
            throw new ConfigException(path, "must be >= 1, was " + n);
        }
        return n;
    }

    private static int nonNegativeInt(JsonNode node, String path) {
        int n = intValue(node, path);
        if (n < 0) {
            throw new ConfigException(path, "must be >= 0, was " + n);
        }
        return n;
    }

    private static int intValue(JsonNode node, String path) {
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new ConfigException(path, "\"" + node.asText() + "\" is not a whole number");
        }
        return node.intValue();
    }

    private static double number(JsonNode node, String path, double dflt) {
        if (node.isMissingNode()) {
            return dflt;
        }
        if (!node.isNumber()) {
            throw new ConfigException(path, "\"" + node.asText() + "\" is not a number");
        }
        return node.doubleValue();
    }

    private static String text(JsonNode node, String path) {
        if (!node.isTextual()) {
            throw new ConfigException(path, "expected text");
        }
        return node.asText();
    }

    private static List<String> classNames(JsonNode node, String path) {
        if (node.isMissingNode() || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new ConfigException(path, "expected a list of exception class names");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String v = node.get(i).asText();
            if (!v.matches("[\\p{L}_$][\\p{L}\\p{N}_$]*(\\.[\\p{L}_$][\\p{L}\\p{N}_$]*)*")) {
                throw new ConfigException(path + "[" + i + "]", "\"" + v + "\" is not a class name");
            }
            out.add(v);
        }
        return out;
    }

    private static void requireObject(JsonNode node, String path) {
        if (!node.isObject()) {
            throw new ConfigException(path, "expected a map of settings");
        }
    }

    /** Records every unknown key under {@code node}; the known ones are still read. */
    private void checkKeys(JsonNode node, String path, Set<String> known) {
        node.fieldNames().forEachRemaining(k -> {
            if (!known.contains(k)) {
                ConfigException e = new ConfigException(path.isEmpty() ? k : path + "." + k,
                        "unknown setting; expected one of " + new java.util.TreeSet<>(known));
                problems.putIfAbsent(e.getMessage(), e);
            }
        });
    }
}
