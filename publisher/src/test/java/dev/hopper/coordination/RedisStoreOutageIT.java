package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.hopper.topology.testing.ThrowawayRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Redis down, unreachable, frozen, restarted empty, or without its script cache: every call answers or throws
 * {@link StoreUnavailableException} (bounded by Awaitility, never a hang, never a Lettuce exception), fencing
 * tokens never go back, and the store works again once Redis does. Each test runs its own redis-server.
 */
class RedisStoreOutageIT {
    /** Far above the 500 ms operation timeout these stores use; only there to turn a hang into a failure. */
    private static final Duration BOUND = Duration.ofSeconds(15);
    private static final Duration LEASE = Duration.ofSeconds(30);

    @Test
    void portNobodyListensOnMakesEveryCallThrowStoreUnavailableWithoutThePassword() {
        URI uri = URI.create("redis://:s3cret-pass@127.0.0.1:" + ThrowawayRedis.freePort());
        try (RedisCoordinationStore store = new RedisCoordinationStore(config(uri, "unreachable:"))) {
            everyCall(store).forEach((name, call) -> {
                Throwable thrown = throwsWithinBound(call);
                assertThat(thrown).as(name).isInstanceOf(StoreUnavailableException.class)
                        .hasMessageContaining("127.0.0.1:" + uri.getPort()).hasMessageContaining("***");
                assertThat(chainText(thrown)).as(name).doesNotContain("s3cret-pass");
            });
        }
    }

    @Test
    void concurrentCallsToAnUnreachableStoreAllThrowStoreUnavailable() throws Exception {
        URI uri = URI.create("redis://127.0.0.1:" + ThrowawayRedis.freePort());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (RedisCoordinationStore store = new RedisCoordinationStore(config(uri, "unreachable:"))) {
            List<Future<Throwable>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String owner = "o" + i;
                calls.add(pool.submit(() -> catchThrowable(() -> store.checkAndLock("k", null, owner, LEASE, false))));
            }
            for (Future<Throwable> call : calls) {
                assertThat(call.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isInstanceOf(StoreUnavailableException.class);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void fencingTokensDoNotGoBackAfterARestartThatLostAllData() {
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisCoordinationStore store = new RedisCoordinationStore(config(redis.uri(), "restart:"))) {
            long last = 0;
            for (int i = 0; i < 5; i++) {
                LockResult.Acquired acquired = acquired(store.checkAndLock("k", null, "before-" + i, LEASE, false));
                assertThat(acquired.fencingToken()).isGreaterThan(last);
                last = acquired.fencingToken();
                store.complete("k", "before-" + i, last, "m-" + i, LEASE);
            }
            store.bumpRevision("k");

            redis.kill();
            everyCall(store).forEach((name, call) ->
                    assertThat(throwsWithinBound(call)).as(name).isInstanceOf(StoreUnavailableException.class));
            redis.restart();

            // Lettuce reconnects by itself; the empty server has no scripts either (NOSCRIPT → EVAL)
            LockResult after = await("store answers after the restart").atMost(BOUND)
                    .until(() -> answerOrNull(() -> store.checkAndLock("k", null, "after", LEASE, false)),
                            Objects::nonNull);
            assertThat(store.currentRevision("k")).as("the restart lost the data").isZero();
            assertThat(acquired(after).fencingToken()).isGreaterThan(last);
        }
    }

    @Test
    void storeWorksAgainAfterTheRestartForEveryOperation() {
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisCoordinationStore store = new RedisCoordinationStore(config(redis.uri(), "again:"))) {
            acquired(store.checkAndLock("k", null, "before", LEASE, false));

            redis.kill();
            redis.restart();
            await("store answers after the restart").atMost(BOUND)
                    .until(() -> answerOrNull(() -> store.currentRevision("k")), Objects::nonNull);

            assertScriptsWork(store);
        }
    }

    @Test
    void flushedScriptCacheIsRefilledTransparently() {
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisCoordinationStore store = new RedisCoordinationStore(config(redis.uri(), "noscript:"))) {
            assertScriptsWork(store);

            flushScripts(redis.uri());

            assertScriptsWork(store);
            assertThat(scriptsCached(redis.uri())).as("EVAL put every script back under the SHA-1 EVALSHA uses")
                    .containsExactly(true, true, true, true);
        }
    }

    @Test
    void frozenServerMakesCallsTimeOutAsStoreUnavailableAndTheStoreRecovers() {
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisCoordinationStore store = new RedisCoordinationStore(config(redis.uri(), "frozen:"))) {
            acquired(store.checkAndLock("k", null, "a", LEASE, false));

            redis.freeze();
            try {
                assertThat(throwsWithinBound(() -> store.checkAndLock("k2", null, "b", LEASE, false)))
                        .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("checkAndLock");
                assertThat(throwsWithinBound(() -> store.bumpRevision("k")))
                        .isInstanceOf(StoreUnavailableException.class);
            } finally {
                redis.thaw();
            }

            // A command that timed out may still have run once the server woke up (it was already sent): the
            // lock it took for "b" on k2 expires with its lease. Fresh keys show the store answers again.
            await("store answers after the thaw").atMost(BOUND)
                    .until(() -> answerOrNull(() -> store.checkAndLock("k3", null, "c", LEASE, false)),
                            Objects::nonNull);
            assertScriptsWork(store);
        }
    }

    @Test
    void passwordFromTheUriIsUsedAndAWrongOneIsReportedWithoutIt() {
        try (ThrowawayRedis redis = ThrowawayRedis.start("--requirepass", "right-pass")) {
            URI right = URI.create("redis://:right-pass@127.0.0.1:" + redis.port());
            try (RedisCoordinationStore store = new RedisCoordinationStore(config(right, "auth:"))) {
                assertScriptsWork(store);
            }

            URI wrong = URI.create("redis://:wrong-pass@127.0.0.1:" + redis.port());
            try (RedisCoordinationStore store = new RedisCoordinationStore(config(wrong, "auth:"))) {
                Throwable thrown = throwsWithinBound(() -> store.currentRevision("k"));
                assertThat(thrown).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("WRONGPASS");
                assertThat(chainText(thrown)).doesNotContain("wrong-pass").doesNotContain("right-pass");
                assertThat(store.toString()).doesNotContain("wrong-pass");
            }
        }
    }

    private static void assertScriptsWork(CoordinationStore store) {
        String key = "works-" + System.nanoTime();
        assertThat(store.bumpRevision(key)).isEqualTo(1);
        assertThat(store.checkAndLock(key, 0L, "x", LEASE, false)).isEqualTo(new LockResult.Superseded(1));
        LockResult.Acquired a = acquired(store.checkAndLock(key, 1L, "a", LEASE, false));
        assertThat(store.renew(key, "a", a.fencingToken(), LEASE)).isTrue();
        store.release(key, "a", a.fencingToken());
        LockResult.Acquired b = acquired(store.checkAndLock(key, 1L, "b", LEASE, false));
        assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
        store.complete(key, "b", b.fencingToken(), key + "-done", LEASE);
        assertThat(store.isCompleted(key + "-done")).isTrue();
        store.complete(null, "b", b.fencingToken(), key + "-done-2", LEASE);
        assertThat(store.isCompleted(key + "-done-2")).isTrue();
        assertThat(store.checkAndLock(key, 1L, "c", LEASE, false)).isInstanceOf(LockResult.Acquired.class);
    }

    /** Each store operation once, by name. */
    private static Map<String, Runnable> everyCall(CoordinationStore store) {
        Map<String, Runnable> calls = new LinkedHashMap<>();
        calls.put("checkAndLock", () -> store.checkAndLock("k", 1L, "o", LEASE, false));
        calls.put("renew", () -> store.renew("k", "o", 1, LEASE));
        calls.put("complete", () -> store.complete("k", "o", 1, "m", LEASE));
        calls.put("complete without key", () -> store.complete(null, "o", 1, "m", LEASE));
        calls.put("release", () -> store.release("k", "o", 1));
        calls.put("isCompleted", () -> store.isCompleted("m"));
        calls.put("currentRevision", () -> store.currentRevision("k"));
        calls.put("bumpRevision", () -> store.bumpRevision("k"));
        return calls;
    }

    /** Runs {@code call} on Awaitility's thread: a hang fails the test at {@link #BOUND}. */
    private static Throwable throwsWithinBound(Runnable call) {
        return await().atMost(BOUND).until(() -> catchThrowable(call::run), Objects::nonNull);
    }

    private static <T> T answerOrNull(java.util.concurrent.Callable<T> call) throws Exception {
        try {
            return call.call();
        } catch (StoreUnavailableException e) {
            return null;
        }
    }

    private static LockResult.Acquired acquired(LockResult result) {
        assertThat(result).isInstanceOf(LockResult.Acquired.class);
        return (LockResult.Acquired) result;
    }

    private static String chainText(Throwable t) {
        List<String> parts = new ArrayList<>();
        for (Throwable c = t; c != null; c = c.getCause()) {
            parts.add(c.toString());
        }
        return String.join(" <- ", parts);
    }

    private static void flushScripts(URI uri) {
        RedisClient client = RedisClient.create(RedisURI.create(uri));
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            assertThat(c.sync().scriptFlush()).isEqualTo("OK");
        } finally {
            client.shutdown();
        }
    }

    private static List<Boolean> scriptsCached(URI uri) {
        RedisClient client = RedisClient.create(RedisURI.create(uri));
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            return c.sync().scriptExists(LuaScript.load("check_and_lock.lua").sha1(),
                    LuaScript.load("complete_and_release.lua").sha1(), LuaScript.load("release.lua").sha1(),
                    LuaScript.load("renew.lua").sha1());
        } finally {
            client.shutdown();
        }
    }

    private static RedisStoreConfig config(URI uri, String namespace) {
        return RedisStoreConfig.builder(uri).namespace(namespace).operationTimeout(Duration.ofMillis(500))
                .connectTimeout(Duration.ofSeconds(2)).build();
    }

}
