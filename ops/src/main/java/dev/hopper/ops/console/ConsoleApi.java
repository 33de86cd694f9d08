package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.ops.stats.QueueDepths;
import dev.hopper.ops.dlq.DeadLetterGroups;
import dev.hopper.publisher.BrokerConnection;
import dev.hopper.topology.DurationText;
import dev.hopper.topology.HopperConfig;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueNames;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The console's JSON API (design.md, "The console"), independent of HTTP plumbing:
 *
 * <ul>
 *   <li>{@code GET /api/queues}: every configured work queue with ready, per-tier delayed and dead counts,
 *       consumers, the index state and dead letters per 5 minutes over the last hour;
 *   <li>{@code GET /api/queues/{queue}/dead?reason=&type=&errorClass=&key=&olderThan=&group=&page=}: one page
 *       (50) of dead letters, from the index;
 *   <li>{@code GET /api/queues/{queue}/dead/{id}}: one dead letter, headers, failure and payload;
 *   <li>{@code GET /api/queues/{queue}/groups}: groups with counts;
 *   <li>{@code POST /api/queues/{queue}/replay} and {@code /purge}: body {@code {"ids":[…]}} or
 *       {@code {"group":"…"}} or {@code {"filter":{"reason":…,"type":…,"errorClass":…,"key":…,"olderThan":"7d"}}},
 *       plus {@code "dryRun":true|false} and, for replay, {@code "resetAttempts"}, {@code "to"}, {@code "rate"};
 *   <li>{@code POST /api/queues/{queue}/refresh}: re-read the dead queue now.
 * </ul>
 *
 * Thread-safe; broker reads are serialized per queue by {@link QueueLocks}.
 */
final class ConsoleApi {
    static final int PAGE_SIZE = 50;
    /** How long a letter lookup that must read the queue waits for a running refresh or action. */
    static final Duration LOOKUP_WAIT = Duration.ofSeconds(120);

    /** The request names something that does not exist: 404. */
    static final class NotFound extends HopperException {
        private static final long serialVersionUID = 1L;

        NotFound(String message) {
            super(message);
        }
    }

    private final HopperConfig config;
    private final BrokerConnection connection;
    private final DeadLetterIndex index;
    private final DeadLetterActions actions;
    private final QueueLocks locks;
    private final ObjectMapper mapper;
    private final DetailPrefetch prefetch;

    ConsoleApi(HopperConfig config, BrokerConnection connection, DeadLetterIndex index, DeadLetterActions actions,
            QueueLocks locks, ObjectMapper mapper, DetailPrefetch prefetch) {
        this.prefetch = requireNonNull(prefetch, "prefetch");
        this.config = requireNonNull(config, "config");
        this.connection = requireNonNull(connection, "connection");
        this.index = requireNonNull(index, "index");
        this.actions = requireNonNull(actions, "actions");
        this.locks = requireNonNull(locks, "locks");
        this.mapper = requireNonNull(mapper, "mapper");
    }

    /**
     * Answers one API request.
     *
     * @param path the path after {@code /api/}
     * @param query decoded query parameters
     * @param body the request body (POST), else empty
     * @throws NotFound for an unknown path or queue or letter
     * @throws IllegalArgumentException for a malformed parameter or body (400)
     */
    Object handle(String method, String path, Map<String, String> query, byte[] body) {
        List<String> parts = List.of(path.split("/", -1));
        if (parts.size() == 1 && parts.get(0).equals("queues") && method.equals("GET")) {
            return queues();
        }
        if (parts.size() < 3 || !parts.get(0).equals("queues")) {
            throw new NotFound("no such API path: /api/" + path);
        }
        String queue = knownQueue(parts.get(1));
        String verb = parts.get(2);
        if (parts.size() == 3 && method.equals("GET")) {
            return switch (verb) {
                case "dead" -> dead(queue, query);
                case "groups" -> groups(queue);
                default -> throw new NotFound("no such API path: /api/" + path);
            };
        }
        if (parts.size() == 4 && method.equals("GET") && verb.equals("dead")) {
            return letter(queue, parts.get(3));
        }
        if (parts.size() == 3 && method.equals("POST")) {
            return switch (verb) {
                case "replay" -> actions.replay(queue, actionRequest(body, true));
                case "purge" -> actions.purge(queue, actionRequest(body, false));
                case "refresh" -> status(locks.with(queue, DeadLetterActions.LOCK_WAIT, () -> index.refresh(queue)));
                default -> throw new NotFound("no such API path: /api/" + path);
            };
        }
        throw new NotFound("no such API path: " + method + " /api/" + path);
    }

    private Map<String, Object> queues() {
        Map<String, Map<String, Object>> byQueue = new LinkedHashMap<>();
        for (QueueDepths.Depth d : new QueueDepths(connection).read(config)) {
            Map<String, Object> q = byQueue.computeIfAbsent(d.workQueue(), name -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("queue", name);
                m.put("delayed", new LinkedHashMap<String, Object>());
                return m;
            });
            switch (d.kind()) {
                case WORK -> {
                    q.put("exists", d.exists());
                    q.put("ready", d.messages());
                    q.put("consumers", d.consumers());
                    // A passive declare (all AMQP offers) counts ready messages only.
                    q.put("inFlight", null);
                }
                case RETRY -> {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> delayed = (Map<String, Object>) q.get("delayed");
                    delayed.put(d.tier(), d.messages());
                }
                case DEAD -> {
                    IndexSnapshot s = index.snapshot(d.workQueue());
                    // While the console itself reads the dead queue, the letters it holds are not "ready" and a
                    // passive declare misses them: show at least what the last read counted.
                    boolean reading = d.messages() != null && locks.busy(d.workQueue());
                    q.put("dead", reading ? Math.max(d.messages(), s.depth()) : d.messages());
                    q.put("reading", reading);
                    q.put("index", status(s));
                    q.put("lastHour", index.lastHour(d.workQueue()));
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("broker", connection.redactedUri());
        out.put("queues", new ArrayList<>(byQueue.values()));
        return out;
    }

    private Map<String, Object> dead(String queue, Map<String, String> q) {
        int page = intParam(q, "page", 1);
        if (page < 1) {
            throw new IllegalArgumentException("page must be at least 1, was " + page);
        }
        LetterQuery query = query(q.get("reason"), q.get("type"), q.get("errorClass"), q.get("key"),
                q.get("olderThan"), q.get("group"));
        DeadLetterIndex.Page p = index.page(queue, query, page, PAGE_SIZE);
        prefetch.pageServed(queue, p.letters());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (IndexedLetter l : p.letters()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", l.id());
            m.put("position", l.position());
            m.put("type", l.type());
            m.put("reason", l.reason());
            m.put("errorClass", l.errorClass());
            m.put("errorMessage", l.errorMessage());
            m.put("key", l.key());
            m.put("attempt", l.attempt());
            m.put("failedAt", l.failedAt() == null ? null : l.failedAt().toString());
            m.put("group", l.group());
            rows.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("queue", queue);
        out.put("filter", query.describe());
        out.put("matched", p.matched());
        out.put("page", p.page());
        out.put("pages", p.pages());
        out.put("pageSize", p.pageSize());
        out.put("letters", rows);
        out.put("index", status(p.snapshot()));
        return out;
    }

    private Map<String, Object> groups(String queue) {
        IndexSnapshot s = index.snapshot(queue);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (DeadLetterGroups.Group g : s.groups()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", g.id());
            m.put("count", g.count());
            m.put("reason", g.reason());
            m.put("errorClass", g.errorClass());
            m.put("topFrame", g.topFrame());
            m.put("firstFailedAt", g.firstFailedAt() == null ? null : g.firstFailedAt().toString());
            m.put("lastFailedAt", g.lastFailedAt() == null ? null : g.lastFailedAt().toString());
            rows.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("queue", queue);
        out.put("groups", rows);
        out.put("index", status(s));
        return out;
    }

    private Object letter(String queue, String id) {
        LetterView.Detail d = index.cached(queue, id)
                .or(() -> locks.with(queue, LOOKUP_WAIT, () -> index.find(queue, id)))
                .orElseThrow(() -> new NotFound("no dead letter with id '" + id + "' in " + QueueNames.deadQueue(queue)
                        + " (replayed or purged?)"));
        return d.json();
    }

    private Map<String, Object> status(IndexSnapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("depth", s.depth());
        m.put("indexed", s.letters().size());
        m.put("complete", s.complete());
        m.put("limit", index.limit());
        m.put("readAt", s.readAt() == null ? null : s.readAt().toString());
        m.put("tookMillis", s.took().toMillis());
        m.put("error", s.error());
        return m;
    }

    private ActionRequest actionRequest(byte[] body, boolean replay) {
        JsonNode n;
        try {
            n = mapper.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("the body is not JSON");
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("the body must be a JSON object");
        }
        List<String> ids = new ArrayList<>();
        JsonNode idsNode = n.path("ids");
        if (!idsNode.isMissingNode() && !idsNode.isNull()) {
            if (!idsNode.isArray()) {
                throw new IllegalArgumentException("ids must be an array of message ids");
            }
            idsNode.forEach(x -> ids.add(x.asText()));
            if (ids.isEmpty()) {
                throw new IllegalArgumentException("ids is empty: select at least one dead letter");
            }
        }
        JsonNode f = n.path("filter");
        String group = text(n, "group");
        LetterQuery query = query(text(f, "reason"), text(f, "type"), text(f, "errorClass"), text(f, "key"),
                text(f, "olderThan"), group != null ? group : text(f, "group"));
        if (!n.has("dryRun") || !n.get("dryRun").isBoolean()) {
            throw new IllegalArgumentException("dryRun must be given, true or false: preview first");
        }
        boolean dryRun = n.get("dryRun").asBoolean();
        if (!replay && (n.has("to") || n.has("resetAttempts") || n.has("rate"))) {
            throw new IllegalArgumentException("to, resetAttempts and rate are replay options");
        }
        String to = text(n, "to");
        if (to != null) {
            knownOrValidQueue(to);
        }
        int rate = n.path("rate").asInt(0);
        if (rate < 0) {
            throw new IllegalArgumentException("rate must be >= 0, was " + rate);
        }
        return new ActionRequest(ids, query, dryRun, to, n.path("resetAttempts").asBoolean(false), rate);
    }

    private static LetterQuery query(@Nullable String reason, @Nullable String type, @Nullable String errorClass,
            @Nullable String key, @Nullable String olderThan, @Nullable String group) {
        Duration age = null;
        if (olderThan != null && !olderThan.isBlank()) {
            try {
                age = DurationText.parse(olderThan.trim());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("olderThan must be a duration like 30m, 12h or 7d, was '"
                        + olderThan + "'");
            }
        }
        return new LetterQuery(reason, type, errorClass, key, age, group);
    }

    private String knownQueue(String name) {
        if (!config.queues().containsKey(name)) {
            throw new NotFound("no work queue '" + name + "' in this console's configuration");
        }
        return name;
    }

    private static void knownOrValidQueue(String name) {
        try {
            QueueNames.checkWorkQueue(name);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("to: " + e.getMessage());
        }
    }

    private static @Nullable String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException(field + " must be a string");
        }
        return v.asText();
    }

    private static int intParam(Map<String, String> q, String name, int dflt) {
        String v = q.get(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, was '" + v + "'");
        }
    }
}
