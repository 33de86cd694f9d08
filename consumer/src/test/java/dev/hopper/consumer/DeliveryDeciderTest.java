package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.coordination.LockResult;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.LockSpec;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.RetryReason;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.TaskJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decision table: one row per branch of design.md's "What a worker does with one delivery", named after its
 * step, plus the retry policy's arithmetic. Each row gives the facts known so far and the step the decider must
 * answer: a terminal decision, or the effect it needs next.
 */
class DeliveryDeciderTest {
    private static final Instant T0 = Instant.parse("2026-11-23T00:00:00Z");
    private static final List<DelayTier> TIERS = tiers("5s", "30s", "5m", "1h");
    private static final RetryPolicy DELAYS = RetryPolicy.DEFAULT.withMaxAttempts(5);
    private static final RetryPolicy WEBHOOK = RetryPolicy.RETRY_FOR_A_DAY;
    private static final RuntimeException BOOM = new IllegalStateException("boom");
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final Duration DONE_TTL = Duration.ofDays(1);
    private static final String ID = "m-1";
    private static final String KEY = "repo:42";
    private static final String OWNER = "w/m-1/7";
    private static final long TOKEN = 1234;
    /** A run slot taken right after the lock call (its lease far from a quarter gone). */
    private static final DeliveryFacts.RunSlot SLOT = DeliveryFacts.RunSlot.taken(100);
    private static final RegisteredHandler<byte[]> HANDLER = new RegisteredHandler<>("job", byte[].class,
            TaskJson.newMapper().readerFor(byte[].class), (p, ctx) -> { });

    private static QueueSpec spec(RetryPolicy policy, SupersededPolicy superseded) {
        return QueueSpec.builder("q").tiers(TIERS).retry(policy).poisonAfter(5).handlerTimeout(TIMEOUT)
                .lock(new LockSpec(LEASE, 3, superseded)).build();
    }

    private static final DeliveryDecider SKIP = decider(DELAYS, SupersededPolicy.SKIP, false);
    private static final DeliveryDecider REFRESH = decider(DELAYS, SupersededPolicy.REFRESH, false);
    private static final DeliveryDecider MARK_ALL = decider(DELAYS, SupersededPolicy.SKIP, true);

    private static DeliveryDecider decider(LockSpec lock) {
        return new DeliveryDecider(QueueSpec.builder("q").tiers(TIERS).retry(DELAYS).poisonAfter(5)
                .handlerTimeout(TIMEOUT).lock(lock).build(), Set.of("job"), false, DONE_TTL);
    }

    private static DeliveryDecider decider(RetryPolicy p, SupersededPolicy superseded, boolean markUnkeyedDone) {
        return new DeliveryDecider(spec(p, superseded), Set.of("job"), markUnkeyedDone, DONE_TTL);
    }

    // ---- facts ----

    private static TaskEnvelope envelope(@Nullable String key, @Nullable Long revision, int attempt, int lockWaits,
            @Nullable Instant firstAttemptAt) {
        return new TaskEnvelope(ID, "job", key, revision, attempt, T0.minusSeconds(1), firstAttemptAt, lockWaits, 0,
                "{}".getBytes(StandardCharsets.UTF_8));
    }

    private static DeliveryFacts arrived(Reading reading, boolean redelivered, int deliveryCount, boolean shutdown) {
        return DeliveryFacts.arrived(new DeliveryFacts.Arrival(7, redelivered, deliveryCount, reading, OWNER,
                shutdown));
    }

    private static DeliveryFacts ready(TaskEnvelope env) {
        return arrived(new Reading.Readable(env, HANDLER, new byte[0]), false, 0, false);
    }

    /** Unkeyed, first delivery, past the gates: next is the run. */
    private static DeliveryFacts unkeyedAdmitted(int attempt) {
        return ready(envelope(null, null, attempt, 0, null)).withAdmitted(true).withStartPermitted(true)
                .withRunSlot(SLOT);
    }

    /** Keyed, admitted, lock acquired at revision 3. */
    private static DeliveryFacts keyedLocked(int attempt, @Nullable Instant firstAttemptAt) {
        return ready(envelope(KEY, 3L, attempt, 0, firstAttemptAt)).withAdmitted(true).withStartPermitted(true)
                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L).withRunSlot(SLOT);
    }

    private static HandlerOutcome ran(@Nullable Throwable thrown, HandlerRun.Stop stop, Duration age) {
        return new HandlerOutcome(T0, T0.plus(age), Duration.ofMillis(5), thrown, stop, false);
    }

    private static HandlerOutcome failed(Throwable thrown) {
        return ran(thrown, HandlerRun.Stop.NONE, Duration.ZERO);
    }

    private static final HandlerOutcome SUCCEEDED = ran(null, HandlerRun.Stop.NONE, Duration.ZERO);

    private static Arguments row(String name, DeliveryDecider d, DeliveryFacts facts, Step expected) {
        return Arguments.of(name, d, facts, expected);
    }

    static Stream<Arguments> designSteps() {
        TaskEnvelope plain = envelope(null, null, 0, 0, null);
        TaskEnvelope keyed = envelope(KEY, 3L, 2, 0, null);
        return Stream.of(
                row("shutdown: a delivery that reaches a handler thread during shutdown goes back unrun", SKIP,
                        arrived(new Reading.Readable(plain, HANDLER, new byte[0]), false, 0, true),
                        new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.COPY, 0)),
                row("1 decode: unparseable body or headers is dead-lettered malformed, no retries", SKIP,
                        arrived(new Reading.Malformed("empty body", ID, "job"), false, 0, false),
                        Decision.DeadLetter.of(DeadReason.MALFORMED, "empty body", null)),
                row("1 decode: unknown type is dead-lettered unknown-type", SKIP,
                        arrived(new Reading.UnknownType(envelope(null, null, 0, 0, null)), false, 0, false),
                        Decision.DeadLetter.of(DeadReason.UNKNOWN_TYPE, "no handler for type 'job' on queue q "
                                + "(registered: job)", null)),
                row("2 crash-loop guard: delivered more often than poison-after is dead-lettered poison", SKIP,
                        arrived(new Reading.Readable(keyed, HANDLER, new byte[0]), true, 6, false),
                        Decision.DeadLetter.of(DeadReason.POISON, "delivered 7 times without being settled "
                                + "(poison-after 5): it crashes or hangs workers", 2)),
                row("1 decode: a body that is not valid JSON for the payload type is dead-lettered malformed", SKIP,
                        arrived(new Reading.BadPayload(plain, "Job", "unexpected end"), false, 0, false),
                        Decision.DeadLetter.of(DeadReason.MALFORMED, "body is not valid JSON for Job: unexpected end",
                                null)),
                row("done-marker: a redelivered keyed task asks the store whether it was completed", SKIP,
                        arrived(new Reading.Readable(keyed, HANDLER, new byte[0]), true, 0, false),
                        new Effect.CheckDone(ID)),
                row("done-marker: a redelivery of a completed task is acked unrun as duplicate", SKIP,
                        arrived(new Reading.Readable(keyed, HANDLER, new byte[0]), true, 1, false)
                                .withCompletedBefore(true),
                        new Decision.Ack(Outcome.DUPLICATE, 2)),
                row("done-marker: a redelivery not completed goes on to the breaker", SKIP,
                        arrived(new Reading.Readable(keyed, HANDLER, new byte[0]), true, 0, false)
                                .withCompletedBefore(false),
                        new Effect.Admit()),
                row("done-marker: a first delivery is not checked", SKIP, ready(keyed), new Effect.Admit()),
                row("done-marker: an unkeyed redelivery is not checked unless unkeyed tasks are marked", SKIP,
                        arrived(new Reading.Readable(plain, HANDLER, new byte[0]), true, 0, false),
                        new Effect.Admit()),
                row("done-marker: an unkeyed redelivery is checked when unkeyed tasks are marked", MARK_ALL,
                        arrived(new Reading.Readable(plain, HANDLER, new byte[0]), true, 0, false),
                        new Effect.CheckDone(ID)),
                row("done-marker: with every task marked, a first delivery is checked too (a resent copy)", MARK_ALL,
                        ready(plain), new Effect.CheckDone(ID)),
                row("done-marker: a resent copy of a completed task is acked unrun as duplicate", MARK_ALL,
                        ready(plain).withCompletedBefore(true), new Decision.Ack(Outcome.DUPLICATE, 0)),
                row("hand-back: store down goes back unrun as a copy", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true).withStoreUnavailable(),
                        new Decision.HandBack(Decision.HandBack.Why.STORE_UNAVAILABLE, Decision.HandBack.Via.COPY, 2)),
                row("hand-back: breaker open goes back unrun as a copy", SKIP, ready(plain).withAdmitted(false),
                        new Decision.HandBack(Decision.HandBack.Why.BREAKER_OPEN, Decision.HandBack.Via.COPY, 0)),
                row("rate limit: an admitted delivery waits for a start", SKIP, ready(plain).withAdmitted(true),
                        new Effect.AwaitStart()),
                row("hand-back: shutdown while waiting for a start goes back unrun", SKIP,
                        ready(plain).withAdmitted(true).withStartPermitted(false),
                        new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.COPY, 0)),
                row("3 lock: a keyed task checks its revision and takes the lock in one call", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true),
                        new Effect.CheckAndLock(KEY, 3L, OWNER, LEASE, false)),
                row("3 lock: policy refresh locks even a superseded task", REFRESH,
                        ready(keyed).withAdmitted(true).withStartPermitted(true),
                        new Effect.CheckAndLock(KEY, 3L, OWNER, LEASE, true)),
                row("3 superseded skip: acked unrun and counted superseded", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Superseded(4), 0, 0),
                        new Decision.Ack(Outcome.SUPERSEDED, 2)),
                row("3 lock-busy: first waits in hand for the lock to change hands (quiet wait-in-hand, at most a lease)",
                        SKIP, ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Busy(Duration.ofSeconds(12), 7), 0, 0),
                        new Effect.AwaitLock(new Effect.CheckAndLock(KEY, 3L, OWNER, LEASE, false),
                                LockSpec.DEFAULT_WAIT_IN_HAND, LEASE)),
                row("3 lock-busy: no wait in hand when wait-in-hand is 0s: retried through a tier at once",
                        decider(new LockSpec(LEASE, 3, SupersededPolicy.SKIP, Duration.ZERO)),
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Busy(Duration.ofSeconds(12), 7), 0, 0),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.LOCK_BUSY, 2, 1, null, null)),
                row("3 lock-busy: still busy after waiting in hand → retried through the tier of the holder's "
                        + "remaining lease, no attempt counted", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Busy(Duration.ofSeconds(12), 7), 0, 0)
                                .withLockWait(new DeliveryFacts.LockWait(Duration.ofSeconds(2), 0, false)),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.LOCK_BUSY, 2, 1, null, null)),
                row("3 lock-busy: a wait in hand ended by shutdown goes back unrun as a copy, no lock wait counted",
                        SKIP, ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Busy(Duration.ofSeconds(12), 7), 0, 0)
                                .withLockWait(new DeliveryFacts.LockWait(Duration.ofMillis(300), 1, true)),
                        new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.COPY, 2)),
                row("3 lock-busy: acquired after waiting in hand runs like any acquired lock", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 0, 1)
                                .withLockWait(new DeliveryFacts.LockWait(Duration.ofMillis(80), 2, false))
                                .withRunSlot(SLOT),
                        new Effect.RunHandler(TIMEOUT, new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE, 0))),
                row("3 lock-timeout: busy past the lock-wait budget is dead-lettered lock-timeout", SKIP,
                        ready(envelope(KEY, 3L, 2, 3, null)).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Busy(Duration.ofSeconds(1)), 0, 0)
                                .withLockWait(new DeliveryFacts.LockWait(Duration.ofSeconds(2), 0, false)),
                        Decision.DeadLetter.of(DeadReason.LOCK_TIMEOUT, "the key's lock stayed busy through 3 waits "
                                + "(lock max-waits 3)", 2)),
                row("3 lock answered late: acquired only after the lease it granted was over waits like a busy key", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 0, LEASE.toNanos()),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.LOCK_BUSY, 2, 1, null, null)),
                row("4 run: an unkeyed task runs without a lock", SKIP, unkeyedAdmitted(0),
                        new Effect.RunHandler(TIMEOUT, null)),
                row("4 run: a keyed task runs with its fencing token, its lease counted from the lock call", SKIP,
                        keyedLocked(0, null),
                        new Effect.RunHandler(TIMEOUT, new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE, 99L))),
                row("4 run slot: an unkeyed task past its gates takes one of the queue's run slots first", SKIP,
                        ready(plain).withAdmitted(true).withStartPermitted(true), new Effect.TakeRunSlot(null)),
                row("4 run slot: a keyed task takes its slot once the lock is its own, keeping the lock renewed", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L),
                        new Effect.TakeRunSlot(new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE, 99L))),
                row("4 run slot: the lock lost while waiting for a slot: waits like a busy key, unrun", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withRunSlot(DeliveryFacts.RunSlot.lost()),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.LOCK_BUSY, 2, 1, null, null)),
                row("4 run slot: renewed while waiting, it runs with its lease counted from that renewal", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withRunSlot(DeliveryFacts.RunSlot.takenRenewed(LEASE.toNanos(), LEASE.toNanos() - 5)),
                        new Effect.RunHandler(TIMEOUT, new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE,
                                LEASE.toNanos() - 5))),
                row("4 run slot: its last renewal while waiting more than a quarter of a lease old: renewed first",
                        SKIP, ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withRunSlot(DeliveryFacts.RunSlot.takenRenewed(LEASE.toNanos(), LEASE.toNanos() / 2)),
                        new Effect.RenewLock(KEY, OWNER, TOKEN, LEASE)),
                row("4 queued: the lock lost while waiting for a thread (renewal refused): waits like a busy key, "
                        + "no slot taken", SKIP, ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withQueuedLease(new DeliveryFacts.QueuedLease(false, 99L)),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.LOCK_BUSY, 2, 1, null, null)),
                row("4 queued: renewed while waiting for a thread, the slot's lease counts from that renewal", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withQueuedLease(new DeliveryFacts.QueuedLease(true, 99L + LEASE.toNanos())),
                        new Effect.TakeRunSlot(new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE, 99L + LEASE.toNanos()))),
                row("4 queued: renewed while waiting for a thread, it runs unrenewed with its lease counted from then "
                        + "(the lock call is a whole lease old)", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withQueuedLease(new DeliveryFacts.QueuedLease(true, 99L + LEASE.toNanos()))
                                .withRunSlot(DeliveryFacts.RunSlot.taken(99L + LEASE.toNanos() + LEASE.toNanos() / 5)),
                        new Effect.RunHandler(TIMEOUT, new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE,
                                99L + LEASE.toNanos()))),
                row("4 queued: its last renewal while waiting for a thread more than a quarter of a lease old at the "
                        + "slot: renewed first", SKIP, ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withQueuedLease(new DeliveryFacts.QueuedLease(true, 99L + LEASE.toNanos()))
                                .withRunSlot(DeliveryFacts.RunSlot.taken(100L + LEASE.toNanos() + LEASE.toNanos() / 4)),
                        new Effect.RenewLock(KEY, OWNER, TOKEN, LEASE)),
                row("4 run slot: a wait for a slot ended by shutdown goes back unrun as a copy (the lock is released)",
                        SKIP, ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withRunSlot(DeliveryFacts.RunSlot.refused(true)),
                        new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.COPY, 2)),
                row("4 run slot: no slot within the bound (handlers stuck past their timeout) goes back unrun", SKIP,
                        ready(plain).withAdmitted(true).withStartPermitted(true)
                                .withRunSlot(DeliveryFacts.RunSlot.refused(false)),
                        new Decision.HandBack(Decision.HandBack.Why.NO_START_SLOT, Decision.HandBack.Via.COPY, 0)),
                row("4 run slot: a lock held a quarter of its lease (exactly) before the slot runs unrenewed", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withRunSlot(DeliveryFacts.RunSlot.taken(99L + LEASE.toNanos() / 4)),
                        new Effect.RunHandler(TIMEOUT, new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE, 99L))),
                row("4 run slot: a lease more than a quarter old at the slot (store silent while waiting) is renewed first", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withRunSlot(DeliveryFacts.RunSlot.taken(100L + LEASE.toNanos() / 4)),
                        new Effect.RenewLock(KEY, OWNER, TOKEN, LEASE)),
                row("4 run slot: renewed, it runs with its lease counted from the renewal", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withRunSlot(DeliveryFacts.RunSlot.taken(100L + LEASE.toNanos() / 4))
                                .withLockRenewal(new DeliveryFacts.LockRenewal(true, 200L + LEASE.toNanos() / 4)),
                        new Effect.RunHandler(TIMEOUT, new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE,
                                200L + LEASE.toNanos() / 4))),
                row("4 run slot: the renewal before the run refused (lock expired): waits like a busy key, unrun", SKIP,
                        ready(keyed).withAdmitted(true).withStartPermitted(true)
                                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L)
                                .withRunSlot(DeliveryFacts.RunSlot.taken(100L + LEASE.toNanos() / 4))
                                .withLockRenewal(new DeliveryFacts.LockRenewal(false, 200L + LEASE.toNanos() / 4)),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.LOCK_BUSY, 2, 1, null, null)),
                row("4 run slot: an unkeyed task that waited long for its slot has no lock to renew and runs", SKIP,
                        ready(plain).withAdmitted(true).withStartPermitted(true)
                                .withRunSlot(DeliveryFacts.RunSlot.taken(LEASE.toNanos())),
                        new Effect.RunHandler(TIMEOUT, null)),
                row("5 success: a keyed task records completion (marker + release) before its ack", SKIP,
                        keyedLocked(0, null).withHandler(SUCCEEDED),
                        new Effect.Complete(KEY, OWNER, TOKEN, ID, DONE_TTL)),
                row("5 success: then acked", SKIP, keyedLocked(0, null).withHandler(SUCCEEDED)
                        .withCompletionRecorded(), new Decision.Ack(Outcome.SUCCESS, 1)),
                row("5 success: an unkeyed task is acked without a marker", SKIP,
                        unkeyedAdmitted(1).withHandler(SUCCEEDED), new Decision.Ack(Outcome.SUCCESS, 2)),
                row("5 success: an unkeyed task records a marker when unkeyed tasks are marked", MARK_ALL,
                        unkeyedAdmitted(1).withCompletedBefore(false).withHandler(SUCCEEDED),
                        new Effect.Complete(null, OWNER, 0, ID, DONE_TTL)),
                row("5 success: a handler that returned as its timeout fired succeeded (not retried as a timeout)",
                        SKIP, unkeyedAdmitted(0).withHandler(ran(null, HandlerRun.Stop.TIMEOUT, Duration.ZERO)),
                        new Decision.Ack(Outcome.SUCCESS, 1)),
                row("5 failure: a keyed task reads the key's revision to see whether it moved", SKIP,
                        keyedLocked(0, null).withHandler(failed(BOOM)), new Effect.ReadRevision(KEY)),
                row("5 revision moved, skip: acked as superseded", SKIP,
                        keyedLocked(2, null).withHandler(failed(BOOM)).withRevisionAfter(OptionalLong.of(4)),
                        new Decision.Ack(Outcome.SUPERSEDED, 3)),
                row("5 revision moved, refresh: republished at once, no attempt counted", REFRESH,
                        keyedLocked(4, null).withHandler(failed(BOOM)).withRevisionAfter(OptionalLong.of(4)),
                        new Decision.Republish(RetryReason.REVISION_CHANGED, T0, 5)),
                row("5 revision unreadable: treated as not moved", SKIP,
                        keyedLocked(0, null).withHandler(failed(BOOM)).withRevisionAfter(OptionalLong.empty()),
                        new Decision.RetryLater(DelayTier.parse("5s"), RetryReason.ERROR, 1, 0, T0, BOOM)),
                row("5 permanent: PermanentTaskException is dead-lettered permanent", SKIP,
                        unkeyedAdmitted(0).withHandler(failed(new PermanentTaskException("no such user"))),
                        Decision.DeadLetter.of(DeadReason.PERMANENT, new PermanentTaskException("no such user"), 1)),
                row("5 retry: a failure within the policy goes to its tier with attempt+1", SKIP,
                        unkeyedAdmitted(1).withHandler(failed(BOOM)),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.ERROR, 2, 0, T0, BOOM)),
                row("5 retry: a run that kept its first-attempt time keeps it", SKIP,
                        ready(envelope(null, null, 1, 0, T0.minusSeconds(60))).withAdmitted(true)
                                .withStartPermitted(true).withHandler(failed(BOOM)),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.ERROR, 2, 0, T0.minusSeconds(60),
                                BOOM)),
                row("5 timeout: a handler that threw after its timeout is retried as a timeout", SKIP,
                        unkeyedAdmitted(0).withHandler(ran(new InterruptedException(), HandlerRun.Stop.TIMEOUT,
                                Duration.ZERO)),
                        new Decision.RetryLater(DelayTier.parse("5s"), RetryReason.ERROR, 1, 0, T0,
                                new HandlerTimeoutException(TIMEOUT))),
                row("5 exhausted: the last of max-attempts is dead-lettered exhausted", SKIP,
                        unkeyedAdmitted(4).withHandler(failed(BOOM)),
                        Decision.DeadLetter.of(DeadReason.EXHAUSTED, BOOM, 5)),
                row("5 exhausted: past max-age is dead-lettered exhausted",
                        decider(DELAYS.withMaxAge(Duration.ofMinutes(10)), SupersededPolicy.SKIP, false),
                        unkeyedAdmitted(1).withHandler(ran(BOOM, HandlerRun.Stop.NONE, Duration.ofMinutes(10))),
                        Decision.DeadLetter.of(DeadReason.EXHAUSTED, BOOM, 2)),
                row("5 lock lost: retried with reason lock-lost, counted as a run", SKIP,
                        keyedLocked(0, null).withHandler(ran(new InterruptedException(), HandlerRun.Stop.LEASE_LOST,
                                Duration.ZERO)).withRevisionAfter(OptionalLong.of(3)),
                        new Decision.RetryLater(DelayTier.parse("5s"), RetryReason.LOCK_LOST, 1, 0, T0,
                                new InterruptedException())),
                row("5 lock lost: even a normal return is retried (another worker may run the key)", SKIP,
                        keyedLocked(0, null).withHandler(ran(null, HandlerRun.Stop.LEASE_LOST, Duration.ZERO))
                                .withRevisionAfter(OptionalLong.of(3)),
                        new Decision.RetryLater(DelayTier.parse("5s"), RetryReason.LOCK_LOST, 1, 0, T0,
                                new dev.hopper.topology.HopperException("lock lost"))),
                row("5 shutdown: a run interrupted by the worker's own shutdown goes back unrun", SKIP,
                        keyedLocked(1, null).withHandler(new HandlerOutcome(T0, T0, Duration.ZERO,
                                new InterruptedException(), HandlerRun.Stop.NONE, true)),
                        new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.NACK, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("designSteps")
    void decides(String name, DeliveryDecider decider, DeliveryFacts facts, Step expected) {
        assertSameStep(decider.decide(facts), expected);
    }

    /** The retry policy's arithmetic: a failure after {@code attempt} runs at {@code age} since the first. */
    private static Arguments policy(String name, RetryPolicy p, int attempt, Duration age, Throwable error,
            Step expected) {
        DeliveryFacts facts = ready(envelope(null, null, attempt, 0, attempt == 0 ? null : T0)).withAdmitted(true)
                .withStartPermitted(true).withHandler(ran(error, HandlerRun.Stop.NONE, age));
        return Arguments.of(name, decider(p, SupersededPolicy.SKIP, false), facts, expected);
    }

    static Stream<Arguments> policies() {
        RetryPolicy retryOnIo = new RetryPolicy(List.of(Duration.ofSeconds(5)), List.of(), null, 5, null,
                List.of("java.io.UncheckedIOException"), List.of());
        return Stream.of(
                policy("first failure waits the first delay", DELAYS, 0, Duration.ZERO, BOOM, retry("5s", 1)),
                policy("second failure waits the second delay", DELAYS, 1, Duration.ofSeconds(5), BOOM,
                        retry("30s", 2)),
                policy("fourth failure waits the last delay", DELAYS, 3, Duration.ofMinutes(6), BOOM, retry("1h", 4)),
                policy("a wanted delay between tiers rounds up", RetryPolicy.ofDelays(Duration.ofSeconds(10)), 0,
                        Duration.ZERO, BOOM, retry("30s", 1)),
                policy("a wanted delay above every tier takes the largest", RetryPolicy.ofDelays(Duration.ofHours(3)),
                        0, Duration.ZERO, BOOM, retry("1h", 1)),
                policy("schedule at 0m", WEBHOOK, 0, Duration.ZERO, BOOM, retry("5m", 1)),
                policy("schedule at 30m", WEBHOOK, 6, Duration.ofMinutes(30), BOOM, retry("5m", 7)),
                policy("schedule at 61m", WEBHOOK, 12, Duration.ofMinutes(61), BOOM, retry("1h", 13)),
                policy("schedule at 23h59m", WEBHOOK, 35, Duration.ofHours(23).plusMinutes(59), BOOM,
                        retry("1h", 36)),
                policy("schedule at 24h01m", WEBHOOK, 36, Duration.ofHours(24).plusMinutes(1), BOOM,
                        dead(DeadReason.EXHAUSTED, 37)),
                policy("subclass of a permanent-on class", DELAYS.withPermanentOn(List.of("java.lang.RuntimeException")),
                        0, Duration.ZERO, BOOM, dead(DeadReason.PERMANENT, 1)),
                policy("not in retry-on", retryOnIo, 0, Duration.ZERO, BOOM, dead(DeadReason.PERMANENT, 1)),
                policy("in retry-on", retryOnIo, 0, Duration.ZERO, new UncheckedIOException(new IOException("reset")),
                        retry("5s", 1)),
                policy("a timeout is retried even with retry-on", retryOnIo, 0, Duration.ZERO,
                        new HandlerTimeoutException(Duration.ofSeconds(1)), retry("5s", 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("policies")
    void appliesTheRetryPolicy(String name, DeliveryDecider decider, DeliveryFacts facts, Step expected) {
        Step actual = decider.decide(facts);
        if (expected instanceof Decision.RetryLater e && actual instanceof Decision.RetryLater a) {
            assertThat(new Object[] {a.tier(), a.reason(), a.nextAttempt()})
                    .containsExactly(e.tier(), e.reason(), e.nextAttempt());
        } else {
            assertThat(actual).isInstanceOf(expected.getClass());
            assertThat(((Decision.DeadLetter) actual).reason()).isEqualTo(((Decision.DeadLetter) expected).reason());
            assertThat(((Decision.DeadLetter) actual).attemptsHeader())
                    .isEqualTo(((Decision.DeadLetter) expected).attemptsHeader());
        }
    }

    // ---- counting only runs (issue 17 finding 3): quarantine, solo starts, held queues ----

    private static final DeliveryDecider DURABLE = new DeliveryDecider(spec(DELAYS, SupersededPolicy.SKIP),
            Set.of("job"), false, DONE_TTL, Duration.ofDays(7), true);
    private static final DelayTier SHORTEST = TIERS.get(0);

    private static DeliveryFacts arrivedAs(TaskEnvelope env, int deliveryCount, int suspectCrashes, boolean held) {
        return DeliveryFacts.arrived(new DeliveryFacts.Arrival(7, deliveryCount > 0, deliveryCount,
                new Reading.Readable(env, HANDLER, new byte[0]), OWNER, false, suspectCrashes, held));
    }

    static Stream<Arguments> countingOnlyRuns() {
        TaskEnvelope plain = envelope(null, null, 1, 0, null);
        int none = DeliveryFacts.Arrival.NOT_SUSPECT;
        return Stream.of(
                row("held: a delivery of a queue paused handing back (deployment error) goes back unrun as a copy, "
                        + "no attempt", DURABLE,
                        arrivedAs(plain, 0, none, true),
                        new Decision.HandBack(Decision.HandBack.Why.HELD, Decision.HandBack.Via.COPY, 1)),
                row("guard: redelivered past poison-after is quarantined, not dead (it may never have started)",
                        DURABLE, arrivedAs(plain, 6, none, false), new Decision.Quarantine(SHORTEST, 0, 1)),
                row("guard: a suspect redelivered past poison-after while waiting is quarantined again, count kept",
                        DURABLE, arrivedAs(plain, 6, 2, false), new Decision.Quarantine(SHORTEST, 2, 1)),
                row("guard: without a durable store the delivery count still dead-letters poison", SKIP,
                        arrivedAs(plain, 6, none, false), Decision.DeadLetter.of(DeadReason.POISON, "delivered 7 times "
                                + "without being settled (poison-after 5): it crashes or hangs workers", 1)),
                row("slot: an ordinary delivery takes a shared start slot", DURABLE,
                        arrivedAs(plain, 0, none, false).withAdmitted(true).withStartPermitted(true),
                        new Effect.Isolate(false)),
                row("slot: an ordinary delivery with its slot goes on to run", DURABLE,
                        arrivedAs(plain, 0, none, false).withAdmitted(true).withStartPermitted(true)
                                .withIsolation(DeliveryFacts.Isolation.SHARED).withRunSlot(SLOT),
                        new Effect.RunHandler(TIMEOUT, null, null)),
                row("slot: an ordinary delivery refused a slot (a suspect runs alone too long) goes back as a copy",
                        DURABLE, arrivedAs(plain, 0, none, false).withAdmitted(true).withStartPermitted(true)
                                .withIsolation(DeliveryFacts.Isolation.REFUSED),
                        new Decision.HandBack(Decision.HandBack.Why.NO_START_SLOT, Decision.HandBack.Via.COPY, 1)),
                row("slot: a suspect asks to run alone", DURABLE,
                        arrivedAs(plain, 1, 0, false).withAdmitted(true).withStartPermitted(true),
                        new Effect.Isolate(true)),
                row("slot: a suspect refused (another suspect in hand) goes back a suspect, count kept", DURABLE,
                        arrivedAs(plain, 1, 1, false).withAdmitted(true).withStartPermitted(true)
                                .withIsolation(DeliveryFacts.Isolation.REFUSED),
                        new Decision.Quarantine(SHORTEST, 1, 1)),
                row("slot: a suspect running alone counts its solo starts in the store", DURABLE,
                        arrivedAs(plain, 2, 0, false).withAdmitted(true).withStartPermitted(true)
                                .withIsolation(DeliveryFacts.Isolation.ALONE),
                        new Effect.CountSoloStarts(ID, 6)),
                row("slot: a suspect that started alone more than poison-after times is dead-lettered poison",
                        DURABLE, arrivedAs(plain, 2, 0, false).withAdmitted(true).withStartPermitted(true)
                                .withIsolation(DeliveryFacts.Isolation.ALONE).withSoloStarts(6),
                        Decision.DeadLetter.of(DeadReason.POISON, "started alone on its worker 6 times without being "
                                + "settled (poison-after 5): it crashes or hangs workers", 1)),
                row("slot: a suspect within the limit records this solo start before it runs", DURABLE,
                        arrivedAs(plain, 4, 0, false).withAdmitted(true).withStartPermitted(true)
                                .withIsolation(DeliveryFacts.Isolation.ALONE).withSoloStarts(5),
                        new Effect.RecordSoloStart("suspect-run:5:" + ID, DONE_TTL)),
                row("slot: a suspect with its start recorded runs", DURABLE,
                        arrivedAs(plain, 4, 0, false).withAdmitted(true).withStartPermitted(true)
                                .withIsolation(DeliveryFacts.Isolation.ALONE).withSoloStarts(5)
                                .withSoloStartRecorded().withRunSlot(SLOT),
                        new Effect.RunHandler(TIMEOUT, null, null)),
                row("done-marker: a keyed suspect copy (no redelivered flag) still asks whether it completed",
                        DURABLE, arrivedAs(envelope(KEY, 3L, 1, 0, null), 0, 0, false), new Effect.CheckDone(ID)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("countingOnlyRuns")
    void countsOnlyRuns(String name, DeliveryDecider decider, DeliveryFacts facts, Step expected) {
        assertSameStep(decider.decide(facts), expected);
    }

    @Test
    void everyDesignStepHasARow() {
        List<String> names = designSteps().map(a -> (String) a.get()[0]).toList();
        for (String step : List.of("shutdown", "1 decode", "2 crash-loop", "done-marker", "hand-back: store down",
                "hand-back: breaker open", "3 lock", "3 superseded", "3 lock-busy", "3 lock-timeout", "4 run",
                "5 success", "5 revision moved, skip", "5 revision moved, refresh", "5 permanent", "5 retry",
                "5 timeout", "5 exhausted", "5 lock lost", "5 shutdown")) {
            assertThat(names).as("a row for '%s'", step).anyMatch(n -> n.startsWith(step));
        }
    }

    @Test
    void breakerHearsOnlyDownstreamFailures() {
        DeliveryFacts notAdmitted = ready(envelope(null, null, 0, 0, null)).withAdmitted(false);
        assertThat(SKIP.breakerReport(notAdmitted)).isEqualTo(DeliveryDecider.BreakerReport.NONE);
        assertThat(SKIP.breakerReport(keyedLocked(0, null).withLock(new LockResult.Busy(LEASE), 0, 0)))
                .isEqualTo(DeliveryDecider.BreakerReport.NOT_COUNTED);
        assertThat(SKIP.breakerReport(unkeyedAdmitted(0).withHandler(SUCCEEDED)))
                .isEqualTo(DeliveryDecider.BreakerReport.SUCCESS);
        assertThat(SKIP.breakerReport(unkeyedAdmitted(0).withHandler(failed(BOOM))))
                .isEqualTo(DeliveryDecider.BreakerReport.FAILURE);
        assertThat(SKIP.breakerReport(unkeyedAdmitted(0).withHandler(failed(new PermanentTaskException("x")))))
                .isEqualTo(DeliveryDecider.BreakerReport.NOT_COUNTED);
        assertThat(SKIP.breakerReport(keyedLocked(0, null).withHandler(ran(null, HandlerRun.Stop.LEASE_LOST,
                Duration.ZERO)))).isEqualTo(DeliveryDecider.BreakerReport.NOT_COUNTED);
    }

    @Test
    void backoffComesFromResilience4jAndGrowsWithinItsBounds() {
        RetryPolicy p = new RetryPolicy(List.of(), List.of(), new RetryPolicy.Backoff(Duration.ofSeconds(1), 2.0,
                Duration.ofSeconds(8), 0.0), 10, null, List.of(), List.of());
        assertThat(DeliveryDecider.wantedDelay(p, 1, Duration.ZERO)).contains(Duration.ofSeconds(1));
        assertThat(DeliveryDecider.wantedDelay(p, 2, Duration.ZERO)).contains(Duration.ofSeconds(2));
        assertThat(DeliveryDecider.wantedDelay(p, 3, Duration.ZERO)).contains(Duration.ofSeconds(4));
        assertThat(DeliveryDecider.wantedDelay(p, 9, Duration.ZERO)).contains(Duration.ofSeconds(8));
        RetryPolicy jittered = new RetryPolicy(List.of(), List.of(), new RetryPolicy.Backoff(Duration.ofSeconds(4),
                2.0, Duration.ofMinutes(1), 0.5), 10, null, List.of(), List.of());
        for (int i = 0; i < 50; i++) {
            assertThat(DeliveryDecider.wantedDelay(jittered, 1, Duration.ZERO).orElseThrow())
                    .isBetween(Duration.ofSeconds(2), Duration.ofSeconds(6));
        }
    }

    /** Equal, except that errors are compared by class and message start (a decision may wrap a stop in one). */
    private static void assertSameStep(Step actual, Step expected) {
        assertThat(actual).isInstanceOf(expected.getClass());
        if (expected instanceof Decision.DeadLetter e) {
            Decision.DeadLetter a = (Decision.DeadLetter) actual;
            assertThat(a.reason()).isEqualTo(e.reason());
            assertThat(a.errorClass()).isEqualTo(e.errorClass());
            assertThat(a.errorMessage()).isEqualTo(e.errorMessage());
            assertThat(a.attemptsHeader()).isEqualTo(e.attemptsHeader());
        } else if (expected instanceof Decision.RetryLater e) {
            UnaryOperator<Decision.RetryLater> withoutError = r -> new Decision.RetryLater(r.tier(), r.reason(),
                    r.nextAttempt(), r.lockWaits(), r.firstAttemptAt(), null);
            Decision.RetryLater a = (Decision.RetryLater) actual;
            assertThat(withoutError.apply(a)).isEqualTo(withoutError.apply(e));
            assertThat(a.error() == null ? null : a.error().getClass())
                    .isEqualTo(e.error() == null ? null : e.error().getClass());
        } else {
            assertThat(actual).isEqualTo(expected);
        }
    }

    private static Step retry(String tier, int nextAttempt) {
        return new Decision.RetryLater(DelayTier.parse(tier), RetryReason.ERROR, nextAttempt, 0, T0, BOOM);
    }

    private static Step dead(DeadReason reason, int attempts) {
        return new Decision.DeadLetter(reason, null, null, null, attempts);
    }

    private static List<DelayTier> tiers(String... labels) {
        return Stream.of(labels).map(DelayTier::parse).toList();
    }

    // ---- delayed tasks and coalesced runs (design.md, "Delayed tasks" and "Coalescing") ----

    private static final dev.hopper.topology.CoalesceWindow WINDOW = new dev.hopper.topology.CoalesceWindow(
            Duration.ofSeconds(1), Duration.ofSeconds(2));
    private static final byte[] PAYLOAD = new byte[0];

    private static DeliveryFacts scheduled(TaskEnvelope env, dev.hopper.topology.TaskSchedule s) {
        return arrived(new Reading.Readable(env, HANDLER, PAYLOAD, s), false, 0, false);
    }

    private static dev.hopper.topology.TaskSchedule notBefore(Instant at, int hops) {
        return new dev.hopper.topology.TaskSchedule(at, null, hops, null);
    }

    private static dev.hopper.topology.TaskSchedule coalesced(@Nullable Long carried) {
        return new dev.hopper.topology.TaskSchedule(null, WINDOW, 1, carried);
    }

    /** Keyed, coalesced, admitted, lock acquired at revision 3. */
    private static DeliveryFacts coalescedLocked(TaskEnvelope env, @Nullable Long carried) {
        return scheduled(env, coalesced(carried)).withAdmitted(true).withStartPermitted(true)
                .withLock(new LockResult.Acquired(TOKEN, 3), 99L, 99L).withRunSlot(SLOT);
    }

    private static DeliveryFacts.ClaimAnswer answer(dev.hopper.coordination.CoalesceClaim result,
            @Nullable CoalescedRun run) {
        return new DeliveryFacts.ClaimAnswer(result, T0, run, null);
    }

    static Stream<Arguments> delayAndCoalescingSteps() {
        TaskEnvelope plain = envelope(null, null, 0, 0, null);
        TaskEnvelope keyed = envelope(KEY, 3L, 0, 0, null);
        Effect.HeldLock held = new Effect.HeldLock(KEY, OWNER, TOKEN, LEASE, 99L);
        byte[] claimedBody = "{\"n\":100}".getBytes(StandardCharsets.UTF_8);
        CoalescedRun claimedRun = new CoalescedRun(claimedBody, claimedBody, 99);
        dev.hopper.coordination.CoalesceClaim.Claimed claimed =
                new dev.hopper.coordination.CoalesceClaim.Claimed(claimedBody, 99, false);
        return Stream.of(
                row("delayed: a not-before needs the clock first", SKIP,
                        scheduled(plain, notBefore(T0.plusSeconds(600), 1)), new Effect.ReadClock()),
                row("delayed: early by 10m hops through 5m (no attempt, no lock, no handler)", SKIP,
                        scheduled(plain, notBefore(T0.plusSeconds(600), 1)).withNow(T0),
                        new Decision.Hop(DelayTier.parse("5m"), T0.plusSeconds(600), 2, 0)),
                row("delayed: early by 3h hops through the largest tier", SKIP,
                        scheduled(plain, notBefore(T0.plus(Duration.ofHours(3)), 1)).withNow(T0),
                        new Decision.Hop(DelayTier.parse("1h"), T0.plus(Duration.ofHours(3)), 2, 0)),
                row("delayed: early by less than the smallest tier hops through it", SKIP,
                        scheduled(plain, notBefore(T0.plusMillis(1), 3)).withNow(T0),
                        new Decision.Hop(DelayTier.parse("5s"), T0.plusMillis(1), 4, 0)),
                row("delayed: an early keyed redelivery hops without asking the store", SKIP,
                        arrived(new Reading.Readable(keyed, HANDLER, PAYLOAD, notBefore(T0.plusSeconds(40), 1)),
                                true, 1, false).withNow(T0),
                        new Decision.Hop(DelayTier.parse("30s"), T0.plusSeconds(40), 2, 0)),
                row("delayed: due goes on to the gates", SKIP,
                        scheduled(plain, notBefore(T0, 1)).withNow(T0), new Effect.Admit()),
                row("delayed: late goes on to the gates", SKIP,
                        scheduled(plain, notBefore(T0, 1)).withNow(T0.plusSeconds(2)), new Effect.Admit()),
                row("delayed: still early after the hop cap is dead as hop-limit", SKIP,
                        scheduled(plain, notBefore(T0.plus(Duration.ofDays(400)), dev.hopper.topology.DelayRoute
                                .MAX_HOPS)).withNow(T0),
                        Decision.DeadLetter.of(DeadReason.HOP_LIMIT, "still 400d before its not-before time "
                                + T0.plus(Duration.ofDays(400)) + " after 1000 hops through the delay tiers (at most "
                                + "1000)", 0)),
                row("coalesced: under the lock, the run is claimed", SKIP, coalescedLocked(keyed, null),
                        new Effect.Claim(new dev.hopper.coordination.CoalesceKey("q", "job", KEY), ID, WINDOW)),
                row("coalesced: not due (the due time moved) hops until the new due time", SKIP,
                        coalescedLocked(keyed, null).withClaim(answer(
                                new dev.hopper.coordination.CoalesceClaim.NotDue(T0.plusSeconds(20)), null)),
                        new Decision.Hop(DelayTier.parse("5s"), T0.plusSeconds(20), 2, 0)),
                row("coalesced: nothing pending acks without running", SKIP,
                        coalescedLocked(keyed, null).withClaim(answer(
                                new dev.hopper.coordination.CoalesceClaim.NothingPending(), null)),
                        new Decision.Ack(Outcome.COALESCED, 0)),
                row("coalesced: claimed runs the handler with the claimed payload and count", SKIP,
                        coalescedLocked(keyed, null).withClaim(answer(claimed, claimedRun)),
                        new Effect.RunHandler(TIMEOUT, held, claimedRun)),
                row("coalesced: forgotten (state expired) runs its own payload", SKIP,
                        coalescedLocked(keyed, null).withClaim(answer(
                                new dev.hopper.coordination.CoalesceClaim.Forgotten(), null)),
                        new Effect.RunHandler(TIMEOUT, held, new CoalescedRun(PAYLOAD, keyed.body(), 0))),
                row("coalesced: a claimed payload the handler cannot read is dead as malformed", SKIP,
                        coalescedLocked(keyed, null).withClaim(new DeliveryFacts.ClaimAnswer(claimed, T0, null,
                                "bad")),
                        Decision.DeadLetter.of(DeadReason.MALFORMED, "the coalesced payload claimed for this run is "
                                + "not valid JSON for the handler: bad", 0)),
                row("coalesced: a retry copy runs what it carries without claiming", SKIP,
                        coalescedLocked(keyed, 7L),
                        new Effect.RunHandler(TIMEOUT, held, new CoalescedRun(PAYLOAD, keyed.body(), 7))),
                row("coalesced: a run that succeeded records completion", SKIP,
                        coalescedLocked(keyed, null).withClaim(answer(claimed, claimedRun)).withHandler(SUCCEEDED),
                        new Effect.Complete(KEY, OWNER, TOKEN, ID, DONE_TTL)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("delayAndCoalescingSteps")
    void decidesDelaysAndCoalescing(String name, DeliveryDecider decider, DeliveryFacts facts, Step expected) {
        assertSameStep(decider.decide(facts), expected);
    }

    @Test
    void aFailedClaimedRunRetriesAndDiesWithWhatItClaimed() {
        byte[] claimedBody = "{\"n\":100}".getBytes(StandardCharsets.UTF_8);
        CoalescedRun run = new CoalescedRun(claimedBody, claimedBody, 99);
        DeliveryFacts claimedAndFailed = coalescedLocked(envelope(KEY, 3L, 0, 0, null), null)
                .withClaim(answer(new dev.hopper.coordination.CoalesceClaim.Claimed(claimedBody, 99, false), run))
                .withHandler(failed(BOOM)).withRevisionAfter(OptionalLong.of(3));

        Step retry = SKIP.decide(claimedAndFailed);
        assertThat(retry).isInstanceOf(Decision.RetryLater.class);
        assertThat(((Decision.RetryLater) retry).coalesced()).isSameAs(run);
        assertThat(((Decision.RetryLater) retry).nextAttempt()).isEqualTo(1);

        DeliveryFacts lastAttempt = coalescedLocked(envelope(KEY, 3L, 4, 0, T0), null)
                .withClaim(answer(new dev.hopper.coordination.CoalesceClaim.Claimed(claimedBody, 99, false), run))
                .withHandler(failed(BOOM)).withRevisionAfter(OptionalLong.of(3));
        Step dead = SKIP.decide(lastAttempt);
        assertThat(dead).isInstanceOf(Decision.DeadLetter.class);
        assertThat(((Decision.DeadLetter) dead).reason()).isEqualTo(DeadReason.EXHAUSTED);
        assertThat(((Decision.DeadLetter) dead).coalesced()).isSameAs(run);
    }

    @Test
    void everyDelayAndCoalescingRuleHasARow() {
        List<String> names = delayAndCoalescingSteps().map(a -> (String) a.get()[0]).toList();
        for (String rule : List.of("delayed: a not-before needs the clock", "delayed: early", "delayed: due",
                "delayed: still early after the hop cap", "coalesced: under the lock", "coalesced: not due",
                "coalesced: nothing pending", "coalesced: claimed", "coalesced: forgotten",
                "coalesced: a retry copy")) {
            assertThat(names).as("a row for '%s'", rule).anyMatch(n -> n.startsWith(rule));
        }
    }
}
