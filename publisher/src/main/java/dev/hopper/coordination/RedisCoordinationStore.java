package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import dev.hopper.topology.CoalesceWindow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link CoordinationStore} in Redis (standalone server, 5 or later), shared by worker processes on any number
 * of hosts. Thread-safe: all threads share one Lettuce connection, which pipelines their commands.
 *
 * <h2>Atomicity</h2>
 * {@link #checkAndLock} is one Lua script (one round trip; {@link #checkAndLockAll} sends a whole batch through the
 * same script in one round trip): it reads the revision, answers superseded, busy (with
 * the holder's remaining lease, from PTTL) or takes the lock with a PX lease and a new fencing token.
 * {@link #complete} is another: compare-on-owner release plus the done-marker with its PX TTL. {@link #renew} and
 * {@link #release} are compare-on-owner scripts too: they act only when the lock's value is still
 * {@code "<token>:<owner>"} of the caller, so a worker can never extend or free a lock it lost. Scripts are
 * resources of this package, called with EVALSHA; on NOSCRIPT (a restarted or flushed server) the call is
 * repeated once with EVAL, which also puts the script back in the server's cache.
 *
 * <h2>Keys</h2>
 * With the namespace {@code ns} of {@link RedisStoreConfig#namespace()} ({@code hopper:} by default):
 * <ul>
 *   <li>{@code <ns>rev:<key>}: the key's revision (integer, no expiry; missing means 0)</li>
 *   <li>{@code <ns>lock:<key>}: {@code "<fencingToken>:<owner>"} while the lock is held; expires with the lease</li>
 *   <li>{@code <ns>token:<key>}: the last fencing token issued for the key; expires after a week without locking
 *       (see below why losing it is harmless)</li>
 *   <li>{@code <ns>done:<messageId>}: the owner that completed the message; expires after the done-marker TTL</li>
 *   <li>{@code <ns>coalesce:<queue length>:<queue>:<type length>:<type>:<key>}: a hash with one key's coalescing
 *       state ({@link CoalescingStore}); expires on its own (PEXPIRE)</li>
 *   <li>{@code <ns>group:<parentId>}, {@code <ns>group-members:<parentId>}, {@code <ns>group-results:<parentId>},
 *       {@code <ns>group-dead:<parentId>}: a parent's follow-up group ({@link FollowUpStore}, layout on
 *       {@link RedisFollowUps}); expire on their own</li>
 * </ul>
 * The three keys of one entity are used together in one script, so the store needs a standalone Redis (or the
 * primary behind Sentinel), not Redis Cluster.
 *
 * <h2>Leases</h2>
 * A lease is a PX expiry on the lock key, so it is measured by the Redis server's clock: a step of that clock
 * shortens or stretches running leases. The fencing token is what protects downstream writes in that case.
 *
 * <h2>Fencing tokens never go back</h2>
 * The script issues {@code max(last token + 1, server TIME in microseconds)} and keeps the last one in the token
 * key. While that key exists, tokens grow by the counter alone, whatever the clock does. When Redis loses it (a
 * restart without persistence, a restore of an older snapshot, a failover to a replica that lagged, or the
 * token key's own week-long TTL), the next token is the current time in microseconds, which is above every
 * token issued before: each of those was the time of its issue (plus at most one per acquisition issued within
 * the same microsecond). This only assumes the server's wall clock does not go back across the loss. Detecting
 * restarts through Redis's {@code run_id} was rejected for tokens: it says that a restart happened, but the emptied
 * Redis holds nothing to restart the counter above the old tokens (only time can give that floor), and it says
 * nothing when a token key merely expired.
 *
 * <h2>Restarts and leases</h2>
 * For leases, {@code run_id} is the right signal ({@link #incarnation()}): a Redis restarted without persistence
 * forgot every lock, so another worker may take a key whose run is still going. A worker reads {@code run_id}
 * every second or so (one INFO per worker, not per lock) and treats every lease it holds as lost as soon as the id
 * changes. Revisions are forgotten too (a task published against revision 1 after bumps to 3 runs again);
 * only a Redis with persistence (AOF, {@code appendfsync everysec} or stricter) keeps them: docs/reliability.md.
 *
 * <h2>Failures</h2>
 * Lettuce is configured to reject commands while disconnected (its default queues and replays them later, when
 * the lock they asked for means nothing any more), never to resend a command that was in flight when the
 * connection dropped, to reconnect by itself (every 50 ms, backing off to every 2 s), and to time out every
 * command after {@link RedisStoreConfig#operationTimeout()}. Every method therefore either answers or throws
 * {@link StoreUnavailableException} within about the operation timeout (a call made while no connection was
 * ever established may also wait up to twice the connect timeout); {@link #checkAndLockAllAsync} fails its stage
 * with it instead, and never waits. No Lettuce
 * exception escapes. The store connects lazily: it can be built while Redis is down and answers once Redis is
 * up. Unavailability is logged once per change of state, not per call; the password is never logged.
 */
public final class RedisCoordinationStore implements CoordinationStore {
    private static final Logger log = LoggerFactory.getLogger(RedisCoordinationStore.class);

    /** Token keys outlive any lease by far; they expire only to bound memory for keys no longer used. */
    static final Duration TOKEN_KEY_TTL = Duration.ofDays(7);
    /**
     * A follow-up's claim ({@link FollowUpStore#claimKey}) is taken once per copy of one message, never again after
     * it is done: its token counter only has to outlive the copies in flight, not a week (one key per follow-up).
     */
    static final Duration CLAIM_TOKEN_KEY_TTL = Duration.ofHours(1);

    private static final LuaScript CHECK_AND_LOCK = LuaScript.load("check_and_lock.lua");
    private static final LuaScript COMPLETE_AND_RELEASE = LuaScript.load("complete_and_release.lua");
    private static final LuaScript RELEASE = LuaScript.load("release.lua");
    private static final LuaScript RENEW = LuaScript.load("renew.lua");

    private static final long ACQUIRED = 1;
    private static final long BUSY = 2;
    private static final long SUPERSEDED = 3;

    private final RedisStoreConfig config;
    private final RedisKeys keys;
    private final RedisCoalescing coalescing;
    private final RedisFollowUps followUps;
    private final ClientResources resources;
    private final RedisURI uri;
    private final RedisClient client;
    private final Object connectLock = new Object();
    private volatile @Nullable StatefulRedisConnection<String, String> connection;
    /** The first connection being made in the background for {@link #checkAndLockAllAsync}, shared by its callers. */
    private final AtomicReference<@Nullable CompletableFuture<StatefulRedisConnection<String, String>>> connecting =
            new AtomicReference<>();
    private volatile boolean closed;
    private @Nullable ConnectFailure lastConnectFailure;
    /** Last known state, only to log its changes. */
    private final AtomicBoolean available = new AtomicBoolean(true);

    /** A store for {@code config}; does not connect yet (the first call does). */
    public RedisCoordinationStore(RedisStoreConfig config) {
        this.config = requireNonNull(config, "config");
        this.keys = new RedisKeys(config.namespace());
        this.coalescing = new RedisCoalescing(keys);
        this.followUps = new RedisFollowUps(keys);
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                // Lettuce's default backs off to 30 s between reconnects: a worker would stay paused that long
                // after Redis came back.
                .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(2), 2,
                        TimeUnit.MILLISECONDS))
                .build();
        this.uri = RedisURI.create(config.uri());
        uri.setTimeout(config.operationTimeout());
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                // Commands in flight when the connection dropped are not sent again after the reconnect: their
                // caller gets StoreUnavailableException (at the latest at its timeout), and a replayed lock or
                // bump would act for no one.
                .replayFilter(command -> true)
                .timeoutOptions(TimeoutOptions.enabled(config.operationTimeout()))
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(config.connectTimeout())
                        .keepAlive(true)
                        .build())
                .build());
    }

    /** The settings this store was built with. */
    public RedisStoreConfig config() {
        return config;
    }

    @Override
    public LockResult checkAndLock(String key, @Nullable Long messageRevision, String owner, Duration lease,
            boolean lockIfSuperseded) {
        return checkAndLockAll(List.of(new LockRequest(key, messageRevision, owner, lease, lockIfSuperseded)))
                .get(0);
    }

    /** One EVALSHA for the whole batch: {@code check_and_lock.lua} handles its requests in order. */
    @Override
    public List<LockResult> checkAndLockAll(List<LockRequest> requests) {
        requireNonNull(requests, "requests");
        if (requests.isEmpty()) {
            return List.of();
        }
        ScriptInput input = checkAndLockInput(requests);
        List<Object> replies = call("checkAndLock",
                c -> script(c, CHECK_AND_LOCK, ScriptOutputType.MULTI, input.keys(), input.args()));
        return lockResults(requests, replies);
    }

    /**
     * {@link #checkAndLockAll} in one EVALSHA, without waiting for it. Returns at once and never blocks the calling
     * thread, also not to connect: a store without a connection yet makes it in the background (calls arriving
     * meanwhile share that attempt), while {@link #checkAndLockAll} would wait for it.
     *
     * <p>The stage is completed on a thread of this store's Lettuce client: the I/O thread that read the answer,
     * or one of its computation threads for a timeout or a failed first connection. Work chained onto it must not
     * block there (later answers wait behind it). A stage that fails before anything was sent (see below) is failed
     * already when returned, so what is chained onto it runs on the chaining thread.
     *
     * <p>Fails (never throws) with, unwrapped (not inside a {@link CompletionException}):
     * <ul>
     *   <li>{@link StoreUnavailableException}, for the whole batch, when Redis does not answer: within about
     *       {@link RedisStoreConfig#operationTimeout()}, plus up to {@link RedisStoreConfig#connectTimeout()} for a
     *       call that has to connect first. Any of its requests may still have taken effect.</li>
     *   <li>{@link IllegalArgumentException} or {@link NullPointerException} for a bad request (e.g. a lease that is
     *       not positive), with nothing sent: what {@link #checkAndLockAll} throws, as a failed stage, so that a
     *       batching caller handles every failure in one place.</li>
     *   <li>{@link IllegalStateException} once this store is closed.</li>
     * </ul>
     * An empty batch completes at once with an empty list.
     */
    @Override
    public CompletionStage<List<LockResult>> checkAndLockAllAsync(List<LockRequest> requests) {
        List<LockRequest> batch;
        ScriptInput input;
        try {
            // A copy: the caller may reuse its list once this returns, long before the answer is mapped.
            batch = List.copyOf(requireNonNull(requests, "requests"));
            if (batch.isEmpty()) {
                return CompletableFuture.completedFuture(List.of());
            }
            input = checkAndLockInput(batch);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<List<LockResult>> answer = new CompletableFuture<>();
        connectionAsync()
                .thenCompose(c -> RedisCoordinationStore.<List<Object>>scriptAsync(c.async(), CHECK_AND_LOCK,
                        ScriptOutputType.MULTI, input.keys(), input.args()))
                .thenApply(replies -> lockResults(batch, replies))
                .whenComplete((results, failure) -> {
                    // Completed by hand, not by a dependent stage, so the caller sees the failure itself rather than
                    // a CompletionException around it (as from the interface's synchronous default).
                    if (failure == null) {
                        answered();
                        answer.complete(results);
                    } else {
                        answer.completeExceptionally(storeFailure("checkAndLock", failure));
                    }
                });
        return answer;
    }

    /** KEYS and ARGV of one script call. */
    private record ScriptInput(String[] keys, String[] args) {}

    /**
     * {@code check_and_lock.lua}'s keys and arguments for {@code requests}, in order.
     *
     * @throws IllegalArgumentException for a lease that is not positive
     */
    private ScriptInput checkAndLockInput(List<LockRequest> requests) {
        String[] scriptKeys = new String[3 * requests.size()];
        String[] args = new String[5 * requests.size()];
        for (int i = 0; i < requests.size(); i++) {
            LockRequest r = requests.get(i);
            scriptKeys[3 * i] = keys.revision(r.key());
            scriptKeys[3 * i + 1] = keys.lock(r.key());
            scriptKeys[3 * i + 2] = keys.token(r.key());
            args[5 * i] = r.messageRevision() == null ? "" : Long.toString(r.messageRevision());
            args[5 * i + 1] = r.owner();
            args[5 * i + 2] = millis(r.lease(), "lease");
            args[5 * i + 3] = r.lockIfSuperseded() ? "1" : "0";
            args[5 * i + 4] = Long.toString((r.key().startsWith(FollowUpStore.CLAIM_PREFIX)
                    ? CLAIM_TOKEN_KEY_TTL : TOKEN_KEY_TTL).toMillis());
        }
        return new ScriptInput(scriptKeys, args);
    }

    /** One result per request from {@code check_and_lock.lua}'s replies, in order. */
    private List<LockResult> lockResults(List<LockRequest> requests, List<Object> replies) {
        List<LockResult> results = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            @SuppressWarnings("unchecked")
            List<Object> reply = (List<Object>) replies.get(i);
            results.add(lockResult(requests.get(i).key(), reply));
        }
        return results;
    }

    /** The holder's token from a busy reply ({@code "<token>"}, or "0" for a lock not written by Hopper). */
    private static long holderToken(List<Object> reply) {
        if (reply.size() < 3) {
            return 0;
        }
        Object v = reply.get(2);
        try {
            return v instanceof Long l ? l : Long.parseLong(String.valueOf(v));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private LockResult lockResult(String key, List<Object> reply) {
        long status = (Long) reply.get(0);
        if (status == ACQUIRED) {
            return new LockResult.Acquired((Long) reply.get(1), (Long) reply.get(2));
        }
        if (status == BUSY) {
            long remainingMs = (Long) reply.get(1);
            if (remainingMs < 0) {
                log.warn("lock without expiry key={} lockKey={}: it was not written by Hopper and blocks the key until"
                        + " deleted", key, keys.lock(key));
            }
            return new LockResult.Busy(Duration.ofMillis(Math.max(0, remainingMs)), holderToken(reply));
        }
        if (status == SUPERSEDED) {
            return new LockResult.Superseded((Long) reply.get(1));
        }
        throw new IllegalStateException("check_and_lock.lua answered an unknown status " + status);
    }

    @Override
    public boolean renew(String key, String owner, long fencingToken, Duration lease) {
        requireNonNull(key, "key");
        requireNonNull(owner, "owner");
        String leaseMs = millis(lease, "lease");
        Long renewed = call("renew", c -> script(c, RENEW, ScriptOutputType.INTEGER,
                new String[] {keys.lock(key)}, lockValue(fencingToken, owner), leaseMs));
        return renewed == 1L;
    }

    @Override
    public void complete(@Nullable String key, String owner, long fencingToken, String messageId, Duration doneTtl) {
        completeAll(List.of(new Completion(key, owner, fencingToken, messageId, doneTtl)));
    }

    /** One EVALSHA for the whole batch: {@code complete_and_release.lua} handles its completions in order. */
    @Override
    public void completeAll(List<Completion> completions) {
        requireNonNull(completions, "completions");
        if (completions.isEmpty()) {
            return;
        }
        ScriptInput input = completeInput(completions);
        List<Object> released = call("complete",
                c -> script(c, COMPLETE_AND_RELEASE, ScriptOutputType.MULTI, input.keys(), input.args()));
        logUnheld(completions, released);
    }

    /**
     * {@link #completeAll} in one EVALSHA, without waiting for it; never blocks the caller, also not to connect.
     * Threads, failures and bounds as for {@link #checkAndLockAllAsync}.
     */
    @Override
    public CompletionStage<Void> completeAllAsync(List<Completion> completions) {
        List<Completion> batch;
        ScriptInput input;
        try {
            batch = List.copyOf(requireNonNull(completions, "completions"));
            if (batch.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            input = completeInput(batch);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> answer = new CompletableFuture<>();
        connectionAsync()
                .thenCompose(c -> RedisCoordinationStore.<List<Object>>scriptAsync(c.async(), COMPLETE_AND_RELEASE,
                        ScriptOutputType.MULTI, input.keys(), input.args()))
                .whenComplete((released, failure) -> {
                    if (failure == null) {
                        answered();
                        logUnheld(batch, released);
                        answer.complete(null);
                    } else {
                        answer.completeExceptionally(storeFailure("complete", failure));
                    }
                });
        return answer;
    }

    /** {@code complete_and_release.lua}'s keys and arguments for {@code completions}, in order. */
    private ScriptInput completeInput(List<Completion> completions) {
        String[] scriptKeys = new String[2 * completions.size()];
        String[] args = new String[3 * completions.size()];
        for (int i = 0; i < completions.size(); i++) {
            Completion c = completions.get(i);
            String done = keys.done(c.messageId());
            scriptKeys[2 * i] = c.key() == null ? done : keys.lock(c.key());
            scriptKeys[2 * i + 1] = done;
            args[3 * i] = c.key() == null ? "" : lockValue(c.fencingToken(), c.owner());
            args[3 * i + 1] = millis(c.doneTtl(), "doneTtl");
            args[3 * i + 2] = c.owner();
        }
        return new ScriptInput(scriptKeys, args);
    }

    /** Logs the completions whose lock was no longer theirs (the script answers 0 for those). */
    private static void logUnheld(List<Completion> completions, List<Object> released) {
        for (int i = 0; i < completions.size(); i++) {
            Completion c = completions.get(i);
            if (c.key() != null && Long.valueOf(0L).equals(released.get(i))) {
                log.debug("completed without holding the lock key={} id={} token={}", c.key(), c.messageId(),
                        c.fencingToken());
            }
        }
    }

    @Override
    public void release(String key, String owner, long fencingToken) {
        requireNonNull(key, "key");
        requireNonNull(owner, "owner");
        call("release", c -> script(c, RELEASE, ScriptOutputType.INTEGER, new String[] {keys.lock(key)},
                lockValue(fencingToken, owner)));
    }

    @Override
    public boolean isCompleted(String messageId) {
        requireNonNull(messageId, "messageId");
        Long exists = call("isCompleted", c -> c.exists(keys.done(messageId)));
        return exists > 0;
    }

    /** Redis's {@code run_id} ({@code INFO server}): a new one after every restart of the server. */
    @Override
    public java.util.Optional<String> incarnation() {
        String info = call("incarnation", c -> c.info("server"));
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("run_id:")) {
                return java.util.Optional.of(line.substring("run_id:".length()).trim());
            }
        }
        throw new StoreUnavailableException("Redis at " + config.redactedUri() + " reports no run_id in INFO server");
    }

    /** One MGET of the done-markers. */
    @Override
    public List<Boolean> areCompleted(List<String> messageIds) {
        requireNonNull(messageIds, "messageIds");
        if (messageIds.isEmpty()) {
            return List.of();
        }
        String[] doneKeys = messageIds.stream().map(keys::done).toArray(String[]::new);
        List<KeyValue<String, String>> values = call("isCompleted", c -> c.mget(doneKeys));
        return values.stream().map(KeyValue::hasValue).toList();
    }

    @Override
    public long currentRevision(String key) {
        requireNonNull(key, "key");
        String value = call("currentRevision", c -> c.get(keys.revision(key)));
        return value == null ? 0 : Long.parseLong(value);
    }

    /** One MGET of the revision keys. */
    @Override
    public List<Long> currentRevisions(List<String> revisionKeys) {
        requireNonNull(revisionKeys, "keys");
        if (revisionKeys.isEmpty()) {
            return List.of();
        }
        String[] redisKeys = revisionKeys.stream().map(keys::revision).toArray(String[]::new);
        List<KeyValue<String, String>> values = call("currentRevision", c -> c.mget(redisKeys));
        return values.stream().map(kv -> kv.hasValue() ? Long.parseLong(kv.getValue()) : 0L).toList();
    }

    @Override
    public long bumpRevision(String key) {
        requireNonNull(key, "key");
        return call("bumpRevision", c -> c.incr(keys.revision(key)));
    }

    // ---- coalescing: all of it lives in RedisCoalescing and its scripts ----

    @Override
    public CoalesceSchedule scheduleOrAbsorb(CoalesceKey key, String messageId, byte[] payload, CoalesceWindow window,
            Instant now) {
        requireNonNull(key, "key");
        requireNonNull(messageId, "messageId");
        requireNonNull(payload, "payload");
        requireNonNull(window, "window");
        requireNonNull(now, "now");
        return call("scheduleOrAbsorb", c -> coalescing.scheduleOrAbsorb(c, key, messageId, payload, window, now));
    }

    @Override
    public CoalesceClaim claim(CoalesceKey key, String messageId, CoalesceWindow window, Instant now) {
        requireNonNull(key, "key");
        requireNonNull(messageId, "messageId");
        requireNonNull(window, "window");
        requireNonNull(now, "now");
        return call("claim", c -> coalescing.claim(c, key, messageId, window, now));
    }

    // ---- end of coalescing ----

    // ---- follow-ups and joins: all of it lives in RedisFollowUps and its scripts ----

    @Override
    public GroupOpening openGroup(GroupPlan plan) {
        requireNonNull(plan, "plan");
        return call("openGroup", c -> followUps.openGroup(c, plan));
    }

    @Override
    public ChildCompletion completeChild(String parentId, String childId, @Nullable String result,
            Duration doneTtl) {
        requireNonNull(parentId, "parentId");
        requireNonNull(childId, "childId");
        millis(doneTtl, "doneTtl");
        FollowUpStore.checkResultSize(result);
        return call("completeChild", c -> followUps.completeChild(c, parentId, childId, result, doneTtl));
    }

    @Override
    public void joinPublished(String parentId) {
        requireNonNull(parentId, "parentId");
        call("joinPublished", c -> {
            followUps.joinPublished(c, parentId);
            return null;
        });
    }

    @Override
    public void childDead(String parentId, String childId, String reason) {
        requireNonNull(parentId, "parentId");
        requireNonNull(childId, "childId");
        requireNonNull(reason, "reason");
        call("childDead", c -> {
            followUps.childDead(c, parentId, childId, reason);
            return null;
        });
    }

    @Override
    public Optional<GroupView> group(String parentId) {
        requireNonNull(parentId, "parentId");
        return call("group", c -> followUps.group(c, parentId));
    }

    // ---- end of follow-ups and joins ----

    /** Closes the connection and the client's threads; calls made afterwards throw IllegalStateException. */
    @Override
    public void close() {
        synchronized (connectLock) {
            if (closed) {
                return;
            }
            closed = true;
            StatefulRedisConnection<String, String> c = connection;
            connection = null;
            try {
                if (c != null) {
                    c.close();
                }
                client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            } finally {
                resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3_000);
            }
        }
        log.info("coordination store closed uri={} namespace={}", config.redactedUri(), config.namespace());
    }

    @Override
    public String toString() {
        return "RedisCoordinationStore[" + config.redactedUri() + ", namespace=" + config.namespace() + "]";
    }

    private <T> T call(String operation, Function<RedisCommands<String, String>, T> command) {
        try {
            T result = command.apply(connection().sync());
            answered();
            return result;
        } catch (RedisCommandInterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(operation, e);
        } catch (RedisException e) {
            throw unavailable(operation, e);
        }
    }

    /** EVALSHA, and EVAL once when the server does not know the script (restarted, or SCRIPT FLUSH). */
    static <T> T script(RedisCommands<String, String> c, LuaScript script, ScriptOutputType type,
            String[] scriptKeys, String... args) {
        try {
            return c.evalsha(script.sha1(), type, scriptKeys, args);
        } catch (RedisNoScriptException e) {
            log.debug("script not cached on the server, sending it script={}", script.name());
            return c.eval(script.source(), type, scriptKeys, args);
        }
    }

    /** Logs that the store answers again, once per change of state. */
    private void answered() {
        if (!available.get() && available.compareAndSet(false, true)) {
            log.info("coordination store answers again uri={}", config.redactedUri());
        }
    }

    /** {@link #script} without waiting: EVALSHA, and EVAL once when the answer is NOSCRIPT. */
    private static <T> CompletionStage<T> scriptAsync(RedisAsyncCommands<String, String> c, LuaScript script,
            ScriptOutputType type, String[] scriptKeys, String... args) {
        CompletionStage<T> sent = c.evalsha(script.sha1(), type, scriptKeys, args);
        return sent.exceptionallyCompose(failure -> {
            if (!(unwrap(failure) instanceof RedisNoScriptException)) {
                return CompletableFuture.failedStage(failure);
            }
            log.debug("script not cached on the server, sending it script={}", script.name());
            return c.eval(script.source(), type, scriptKeys, args);
        });
    }

    /** The failure a caller of an asynchronous method gets: Lettuce's exceptions as {@link #unavailable}. */
    private Throwable storeFailure(String operation, Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof RedisException e ? unavailable(operation, e) : cause;
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * The connection, without blocking the caller: at once when there is one, else from a connection made in the
     * background (one attempt at a time, shared by the calls that arrive meanwhile; a failed attempt fails them and
     * the next call tries again). Fails with {@link IllegalStateException} once the store is closed.
     */
    private CompletableFuture<StatefulRedisConnection<String, String>> connectionAsync() {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            return CompletableFuture.completedFuture(c);
        }
        if (closed) {
            return CompletableFuture.failedFuture(closedStore());
        }
        CompletableFuture<StatefulRedisConnection<String, String>> attempt = new CompletableFuture<>();
        CompletableFuture<StatefulRedisConnection<String, String>> running = connecting.compareAndExchange(null,
                attempt);
        if (running != null) {
            return running;
        }
        attempt.whenComplete((made, failure) -> connecting.compareAndSet(attempt, null));
        try {
            client.connectAsync(ExactUtf8Codec.INSTANCE, uri).whenComplete((made, failure) -> {
                if (failure != null) {
                    attempt.completeExceptionally(failure);
                } else {
                    adoptElsewhere(made, attempt);
                }
            });
        } catch (RuntimeException e) { // a client shut down by close() meanwhile
            attempt.completeExceptionally(closed ? closedStore() : e);
        }
        return attempt;
    }

    /**
     * Runs {@link #adopt} on one of Lettuce's computation threads. Not on the I/O thread that finished the connect:
     * connectLock may be held by a thread in {@link #connection()} waiting for a connect of its own, which an I/O
     * thread has to finish, so waiting for the lock there could stall both until they time out.
     */
    private void adoptElsewhere(StatefulRedisConnection<String, String> made,
            CompletableFuture<StatefulRedisConnection<String, String>> attempt) {
        try {
            resources.eventExecutorGroup().execute(() -> adopt(made, attempt));
        } catch (RejectedExecutionException e) { // the store was closed and its threads shut down
            made.closeAsync();
            attempt.completeExceptionally(closed ? closedStore() : e);
        }
    }

    /**
     * Makes {@code made} the store's connection unless one was made meanwhile (by {@link #connection()}), in which
     * case {@code made} is closed and the existing one used; a store closed meanwhile fails the attempt.
     */
    private void adopt(StatefulRedisConnection<String, String> made,
            CompletableFuture<StatefulRedisConnection<String, String>> attempt) {
        StatefulRedisConnection<String, String> kept;
        synchronized (connectLock) {
            if (closed) {
                kept = null;
            } else {
                if (connection == null) {
                    connection = made;
                    log.info("coordination store connected uri={} namespace={}", config.redactedUri(),
                            config.namespace());
                }
                kept = connection;
            }
        }
        if (kept != made) {
            made.closeAsync();
        }
        if (kept == null) {
            attempt.completeExceptionally(closedStore());
        } else {
            attempt.complete(kept);
        }
    }

    private static IllegalStateException closedStore() {
        return new IllegalStateException("this RedisCoordinationStore is closed");
    }

    private StatefulRedisConnection<String, String> connection() {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            return c;
        }
        long waitingSince = System.nanoTime();
        synchronized (connectLock) {
            if (closed) {
                throw closedStore();
            }
            if (connection == null) {
                // Threads that queued behind a failed attempt share its failure instead of each waiting out a
                // connect timeout of their own: one call waits at most two connect timeouts.
                ConnectFailure failure = lastConnectFailure;
                if (failure != null && failure.atNanos - waitingSince > 0) {
                    throw failure.exception;
                }
                try {
                    // Once connected, Lettuce reconnects by itself; only the first connection is made here.
                    connection = client.connect(ExactUtf8Codec.INSTANCE);
                } catch (RedisException e) {
                    lastConnectFailure = new ConnectFailure(System.nanoTime(), e);
                    throw e;
                }
                log.info("coordination store connected uri={} namespace={}", config.redactedUri(),
                        config.namespace());
            }
            return connection;
        }
    }

    /** The last failed first connection, guarded by {@code connectLock}. */
    private static final class ConnectFailure {
        final long atNanos;
        final RedisException exception;

        ConnectFailure(long atNanos, RedisException exception) {
            this.atNanos = atNanos;
            this.exception = exception;
        }
    }

    private StoreUnavailableException unavailable(String operation, RedisException e) {
        String reason = describe(e);
        if (available.compareAndSet(true, false)) {
            log.warn("coordination store unavailable uri={} operation={} error={}", config.redactedUri(), operation,
                    reason);
        }
        return new StoreUnavailableException("Redis coordination store at " + config.redactedUri()
                + " did not answer " + operation + " (" + reason + "); keyed tasks wait until it answers: check that"
                + " Redis is running and reachable, or raise the coordination timeout", e);
    }

    /** The exception's message, plus its root cause's (e.g. WRONGPASS behind "Unable to connect"). */
    private static String describe(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            message = message + ": " + root.getMessage();
        }
        return message;
    }

    private static String lockValue(long fencingToken, String owner) {
        return fencingToken + ":" + owner;
    }

    /** Whole milliseconds for PX, at least 1 (Redis refuses 0). */
    private static String millis(Duration d, String name) {
        requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
        return Long.toString(Math.max(1, d.toMillis()));
    }
}
