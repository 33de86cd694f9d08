package dev.hopper.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.hopper.topology.testing.TestRedis;
import dev.hopper.topology.testing.ThrowawayRedis;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract on {@link RedisCoordinationStore} against the shared Redis, in a namespace of its own per test; plus
 * what only Redis has (the key layout, namespaces).
 */
class RedisCoordinationStoreIT extends CoordinationStoreContract {
    private final RedisNamespace namespace = new RedisNamespace(TestRedis.get().uri(), "store");

    @Override
    CoordinationStore newStore() {
        return storeIn(namespace.prefix());
    }

    /**
     * Redis expires lease and marker keys by its own clock, so the test waits the time out for real: the expiry
     * itself is what is under test, and Redis checks it on every access, so nothing is left to chance after it.
     */
    @Override
    void elapse(Duration d) {
        try {
            Thread.sleep(d.toMillis() + 50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while letting a lease expire", e);
        }
    }

    @AfterEach
    void deleteKeys() {
        namespace.close();
    }

    @Test
    void keysAreNamespacedAndExpireAsDocumented() {
        String ns = namespace.prefix();
        long token = acquire(KEY, "worker-1", LONG);
        store.bumpRevision(KEY);

        assertThat(namespace.redis().get(ns + "lock:" + KEY)).isEqualTo(token + ":worker-1");
        assertThat(namespace.redis().pttl(ns + "lock:" + KEY)).isPositive().isLessThanOrEqualTo(LONG.toMillis());
        assertThat(namespace.redis().get(ns + "token:" + KEY)).isEqualTo(Long.toString(token));
        assertThat(namespace.redis().pttl(ns + "token:" + KEY)).isPositive()
                .isLessThanOrEqualTo(RedisCoordinationStore.TOKEN_KEY_TTL.toMillis());
        assertThat(namespace.redis().get(ns + "rev:" + KEY)).isEqualTo("1");
        assertThat(namespace.redis().pttl(ns + "rev:" + KEY)).as("revisions never expire").isEqualTo(-1);

        store.complete(KEY, "worker-1", token, "message-1", Duration.ofMinutes(5));

        assertThat(namespace.redis().exists(ns + "lock:" + KEY)).isZero();
        assertThat(namespace.redis().get(ns + "done:message-1")).isEqualTo("worker-1");
        assertThat(namespace.redis().pttl(ns + "done:message-1")).isPositive()
                .isLessThanOrEqualTo(Duration.ofMinutes(5).toMillis());
    }

    @Test
    void aGroupsKeysAreNamespacedAndExpireWithItsRetention() {
        String ns = namespace.prefix();
        Duration retention = Duration.ofMinutes(3);
        store.openGroup(new GroupPlan("parent-1", java.util.List.of(new GroupPlan.Child("child-1", "q", "t")),
                new JoinTask("join-1", "q", "merge", null, "{}"), retention));
        store.childDead("parent-1", "child-1", "permanent");
        store.completeChild("parent-1", "child-1", "{\"ok\":true}", Duration.ofMinutes(5));

        for (String key : new String[] {"group:", "group-members:", "group-results:"}) {
            assertThat(namespace.redis().pttl(ns + key + "parent-1")).as(key).isPositive()
                    .isLessThanOrEqualTo(retention.toMillis());
        }
        assertThat(namespace.redis().hget(ns + "group-results:parent-1", "child-1")).isEqualTo("={\"ok\":true}");
        assertThat(namespace.redis().exists(ns + "group-dead:parent-1")).as("cleared when the child succeeded")
                .isZero();
        assertThat(namespace.redis().get(ns + "done:child-1")).isEqualTo("child-of:parent-1");
        assertThat(namespace.redis().pttl(ns + "done:child-1")).isPositive()
                .isLessThanOrEqualTo(Duration.ofMinutes(5).toMillis());
    }

    @Test
    void aClaimsTokenCounterExpiresWithinAnHour() {
        String claim = FollowUpStore.claimKey("message-1");
        acquire(claim, "worker-1", LONG);

        assertThat(namespace.redis().pttl(namespace.prefix() + "token:" + claim)).isPositive()
                .isLessThanOrEqualTo(Duration.ofHours(1).toMillis());
    }

    @Test
    void storesInDifferentNamespacesShareNothing() {
        try (RedisNamespace otherNamespace = new RedisNamespace(TestRedis.get().uri(), "other");
                CoordinationStore other = storeIn(otherNamespace.prefix())) {
            acquire(KEY, "a", LONG);
            store.bumpRevision(KEY);
            store.complete(null, "a", 0, "message-1", LONG);

            assertThat(other.checkAndLock(KEY, null, "b", LONG, false)).isInstanceOf(LockResult.Acquired.class);
            assertThat(other.currentRevision(KEY)).isZero();
            assertThat(other.isCompleted("message-1")).isFalse();
        }
    }

    @Test
    void tokensAreSeededFromTheServerClock() {
        long before = serverMicros();

        long token = acquire(KEY, "a", LONG);

        // "now" on the server in microseconds, not a counter starting at 1
        assertThat(token).isBetween(before, serverMicros());
    }

    @Test
    void aBusyAnswerIssuesNoToken() {
        long token = acquire(KEY, "a", LONG);

        assertThat(store.checkAndLock(KEY, null, "b", LONG, false)).isInstanceOf(LockResult.Busy.class);

        // check_and_lock.lua computes the next token before SET NX; only an acquisition may write it
        assertThat(namespace.redis().get(namespace.prefix() + "token:" + KEY)).isEqualTo(Long.toString(token));
        assertThat(namespace.redis().get(namespace.prefix() + "lock:" + KEY)).isEqualTo(token + ":a");
    }

    // ---- the asynchronous batch ----

    @Test
    void aStoreWhoseFirstCallIsAsyncConnectsInTheBackgroundAndAnswers() {
        // store has made no call yet: no connection exists
        CompletionStage<List<LockResult>> answer = store.checkAndLockAllAsync(
                List.of(new LockRequest(KEY, null, "a", LONG, false)));

        LockResult.Acquired acquired = (LockResult.Acquired) answerOf(answer).get(0);
        LockResult later = store.checkAndLock(KEY, null, "b", LONG, false);
        assertThat(later).as("a sync call on the connection the async one made sees its lock")
                .isInstanceOf(LockResult.Busy.class);
        assertThat(((LockResult.Busy) later).holderToken()).isEqualTo(acquired.fencingToken());
    }

    @Test
    void asyncCallsMadeBeforeAndWhileTheFirstConnectionIsMadeAllAnswer() {
        List<CompletionStage<List<LockResult>>> answers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            answers.add(store.checkAndLockAllAsync(List.of(new LockRequest("k" + i, null, "a", LONG, false))));
        }
        // a sync call may connect on its own meanwhile: one of the two connections is kept, both answer
        assertThat(store.checkAndLock(KEY, null, "a", LONG, false)).isInstanceOf(LockResult.Acquired.class);
        answers.add(store.checkAndLockAllAsync(List.of(new LockRequest(KEY, null, "b", LONG, false))));

        List<LockResult> results = new ArrayList<>();
        answers.forEach(answer -> results.addAll(answerOf(answer)));

        assertThat(results.subList(0, 20)).allMatch(LockResult.Acquired.class::isInstance);
        assertThat(results.get(20)).as("the lock the sync call took").isInstanceOf(LockResult.Busy.class);
    }

    @Test
    void anAsyncBatchAfterAScriptFlushStillAnswers() {
        // A server of its own: SCRIPT FLUSH on the shared one would reach other tests' stores
        String sha1 = LuaScript.load("check_and_lock.lua").sha1();
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisNamespace ns = new RedisNamespace(redis.uri(), "noscript");
                RedisCoordinationStore flushed = new RedisCoordinationStore(
                        RedisStoreConfig.builder(redis.uri()).namespace(ns.prefix()).build())) {
            long first = ((LockResult.Acquired) flushed.checkAndLock(KEY, null, "a", LONG, false)).fencingToken();
            assertThat(ns.redis().scriptFlush()).isEqualTo("OK");
            assertThat(ns.redis().scriptExists(sha1)).as("EVALSHA will answer NOSCRIPT").containsExactly(false);

            List<LockResult> results = answerOf(flushed.checkAndLockAllAsync(List.of(
                    new LockRequest(KEY, null, "b", LONG, false), new LockRequest("other", null, "b", LONG, false))));

            assertThat(results.get(0)).isInstanceOf(LockResult.Busy.class);
            assertThat(((LockResult.Busy) results.get(0)).holderToken()).isEqualTo(first);
            assertThat(((LockResult.Acquired) results.get(1)).fencingToken()).isGreaterThan(first);
            assertThat(ns.redis().scriptExists(sha1)).as("sent again with EVAL").containsExactly(true);
        }
    }

    @Test
    void anAsyncCompletionBatchAfterAScriptFlushStillAnswers() {
        String sha1 = LuaScript.load("complete_and_release.lua").sha1();
        try (ThrowawayRedis redis = ThrowawayRedis.start();
                RedisNamespace ns = new RedisNamespace(redis.uri(), "noscript-complete");
                RedisCoordinationStore flushed = new RedisCoordinationStore(
                        RedisStoreConfig.builder(redis.uri()).namespace(ns.prefix()).build())) {
            long token = ((LockResult.Acquired) flushed.checkAndLock(KEY, null, "a", LONG, false)).fencingToken();
            assertThat(ns.redis().scriptFlush()).isEqualTo("OK");

            answerOf(flushed.completeAllAsync(List.of(new Completion(KEY, "a", token, "m-1", LONG))));

            assertThat(flushed.isCompleted("m-1")).isTrue();
            assertThat(flushed.checkAndLock(KEY, null, "b", LONG, false)).as("released")
                    .isInstanceOf(LockResult.Acquired.class);
            assertThat(ns.redis().scriptExists(sha1)).as("sent again with EVAL").containsExactly(true);
        }
    }

    @Test
    void anUnreachableStoreFailsTheAsyncStageWithoutThrowingOrNamingThePassword() {
        URI uri = URI.create("redis://:s3cret-pass@127.0.0.1:" + ThrowawayRedis.freePort());
        try (RedisCoordinationStore unreachable = new RedisCoordinationStore(RedisStoreConfig.builder(uri)
                .namespace(namespace.prefix()).operationTimeout(Duration.ofMillis(500))
                .connectTimeout(Duration.ofSeconds(2)).build())) {
            for (int attempt = 1; attempt <= 2; attempt++) { // the second tries to connect again
                CompletionStage<List<LockResult>> answer = unreachable.checkAndLockAllAsync(
                        List.of(new LockRequest(KEY, null, "a", LONG, false)));

                Throwable failure = failureOf(answer);
                assertThat(failure).as("attempt %d", attempt).isInstanceOf(StoreUnavailableException.class)
                        .hasMessageContaining("checkAndLock").hasMessageContaining("127.0.0.1:" + uri.getPort())
                        .hasMessageContaining("***");
                for (Throwable t = failure; t != null; t = t.getCause()) {
                    assertThat(t.toString()).doesNotContain("s3cret-pass");
                }
            }
        }
    }

    @Test
    void anAsyncCallOnAClosedStoreFailsItsStageInsteadOfThrowing() {
        store.close();

        CompletionStage<List<LockResult>> answer = store.checkAndLockAllAsync(
                List.of(new LockRequest(KEY, null, "a", LONG, false)));

        assertThat(failureOf(answer)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    /** What the stage failed with, waited for at most 15 s. */
    private static Throwable failureOf(CompletionStage<?> stage) {
        Throwable thrown = catchThrowable(() -> stage.toCompletableFuture().get(15, TimeUnit.SECONDS));
        assertThat(thrown).as("the stage fails, within 15 s").isInstanceOf(ExecutionException.class);
        return thrown.getCause();
    }

    private long serverMicros() {
        List<String> time = namespace.redis().time();
        return Long.parseLong(time.get(0)) * 1_000_000 + Long.parseLong(time.get(1));
    }

    private static RedisCoordinationStore storeIn(String prefix) {
        return new RedisCoordinationStore(RedisStoreConfig.builder(TestRedis.get().uri()).namespace(prefix).build());
    }
}
