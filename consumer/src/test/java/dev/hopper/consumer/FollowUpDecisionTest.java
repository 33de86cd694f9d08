package dev.hopper.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.coordination.ChildCompletion;
import dev.hopper.coordination.FollowUpLimitException;
import dev.hopper.coordination.FollowUpStore;
import dev.hopper.coordination.GroupOpening;
import dev.hopper.coordination.GroupPlan;
import dev.hopper.coordination.JoinTask;
import dev.hopper.coordination.LockResult;
import dev.hopper.coordination.StoreUnavailableException;
import dev.hopper.publisher.Task;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.FollowUpIds;
import dev.hopper.topology.Lineage;
import dev.hopper.topology.LockSpec;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.RetryReason;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.TaskJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The follow-up rows of the decision table (design.md, "Follow-up tasks and joins"; the protocol of
 * {@link FollowUpStore}): a parent that succeeded publishes its follow-ups before its ack, a follow-up runs under a
 * claim and only if not done, the last follow-up publishes the join before its ack, a copy of a done follow-up
 * finishes a join left undone, and a dead follow-up is recorded in its group.
 */
class FollowUpDecisionTest {
    private static final Instant T0 = Instant.parse("2026-12-02T06:00:00Z");
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final Duration DONE_TTL = Duration.ofDays(1);
    private static final Duration RETENTION = Duration.ofDays(7);
    private static final String PARENT = "parent-1";
    private static final String ID = FollowUpIds.of(PARENT, 0);
    private static final String CLAIM = DeliveryDecider.claimKey(ID);
    private static final String OWNER = "w/" + ID + "/7";
    private static final long TOKEN = 77;
    private static final RegisteredHandler<byte[]> HANDLER = new RegisteredHandler<>("job", byte[].class,
            TaskJson.newMapper().readerFor(byte[].class), (p, ctx) -> { });
    private static final DeliveryDecider DECIDER = new DeliveryDecider(QueueSpec.builder("q")
            .tiers(List.of(DelayTier.parse("5s"), DelayTier.parse("30s")))
            .retry(RetryPolicy.DEFAULT.withMaxAttempts(5)).poisonAfter(5).handlerTimeout(TIMEOUT)
            .lock(new LockSpec(LEASE, 3, SupersededPolicy.SKIP)).build(), Set.of("job"), false, DONE_TTL, RETENTION);

    private static TaskEnvelope envelope(String id, @Nullable String key, Lineage lineage) {
        return new TaskEnvelope(id, "job", key, null, 0, T0.minusSeconds(1), null, 0, 0,
                "{}".getBytes(StandardCharsets.UTF_8), lineage);
    }

    private static DeliveryFacts admitted(TaskEnvelope env) {
        return DeliveryFacts.arrived(new DeliveryFacts.Arrival(7, false, 0,
                new Reading.Readable(env, HANDLER, new byte[0]), OWNER, false)).withAdmitted(true)
                .withStartPermitted(true);
    }

    /** A follow-up without a key, holding its claim. */
    private static DeliveryFacts claimed() {
        return admitted(envelope(ID, null, Lineage.childOf(PARENT)))
                .withLock(new LockResult.Acquired(TOKEN, 0), 1L, 1L);
    }

    private static DeliveryFacts claimedNotDone() {
        return claimed().withCompletedBefore(false).withRunSlot(DeliveryFacts.RunSlot.taken(2));
    }

    private static DeliveryFacts ran(DeliveryFacts f, @Nullable Throwable thrown, RequestedFollowUps requested) {
        return f.withHandler(new HandlerOutcome(T0, T0, Duration.ofMillis(3), thrown, HandlerRun.Stop.NONE, false))
                .withFollowUps(f.followUps().withRequested(requested));
    }

    private static DeliveryFacts follow(DeliveryFacts f, java.util.function.UnaryOperator<FollowUpFacts> change) {
        return f.withFollowUps(change.apply(f.followUps()));
    }

    private static Task task(String queue, String type, String json) {
        return Task.builder().queue(queue).type(type).jsonPayload(json).build();
    }

    private static final String PARENT_ID = "p-0";
    private static final Task CHILD_0 = task("thumbs", "resize", "{\"i\":0}")
            .asFollowUp(FollowUpIds.of(PARENT_ID, 0), Lineage.childOf(PARENT_ID));
    private static final Task CHILD_1 = task("thumbs", "resize", "{\"i\":1}")
            .asFollowUp(FollowUpIds.of(PARENT_ID, 1), Lineage.childOf(PARENT_ID));
    private static final Task JOIN = task("reports", "merge", "{\"doc\":7}")
            .asFollowUp(FollowUpIds.join(PARENT_ID), Lineage.joinOf(PARENT_ID));
    private static final RequestedFollowUps FAN_OUT = new RequestedFollowUps(List.of(CHILD_0, CHILD_1), JOIN, null);
    private static final GroupPlan FAN_OUT_PLAN = new GroupPlan(PARENT_ID, List.of(
            new GroupPlan.Child(CHILD_0.messageId(), "thumbs", "resize"),
            new GroupPlan.Child(CHILD_1.messageId(), "thumbs", "resize")),
            new JoinTask(JOIN.messageId(), "reports", "merge", null, "{\"doc\":7}"), RETENTION);
    private static final ChildCompletion.JoinDue DUE = new ChildCompletion.JoinDue(
            new JoinTask(FollowUpIds.join(PARENT), "reports", "merge", null, "{}"), Arrays.asList("1", null), false);
    private static final FollowUpPublishException NOT_CONFIRMED = new FollowUpPublishException("not confirmed",
            new IllegalStateException("nack"));
    private static final FollowUpLimitException TOO_BIG = new FollowUpLimitException("result over 65536 bytes");

    private static DeliveryFacts parentRan(RequestedFollowUps requested) {
        return ran(admitted(envelope(PARENT_ID, null, Lineage.NONE)), null, requested);
    }

    private static Arguments row(String name, DeliveryFacts facts, Step expected) {
        return Arguments.of(name, facts, expected);
    }

    static Stream<Arguments> rows() {
        DeliveryFacts childOk = ran(claimedNotDone(), null, new RequestedFollowUps(List.of(), null, "{\"n\":1}"));
        return Stream.of(
                // ---- a parent that succeeded ----
                row("parent succeeded with follow-ups: record its group first", parentRan(FAN_OUT),
                        new FollowUpEffect.OpenGroup(FAN_OUT_PLAN)),
                row("parent's group recorded: publish its follow-ups, all confirmed, before the ack",
                        follow(parentRan(FAN_OUT), u -> u.withGroupOpened(GroupOpening.OPENED)),
                        new FollowUpEffect.PublishFollowUps(List.of(CHILD_0, CHILD_1))),
                row("a re-run parent finds its group open and publishes the same ids again",
                        follow(parentRan(FAN_OUT), u -> u.withGroupOpened(GroupOpening.ALREADY_OPEN)),
                        new FollowUpEffect.PublishFollowUps(List.of(CHILD_0, CHILD_1))),
                row("parent's follow-ups confirmed: ack", follow(parentRan(FAN_OUT),
                        u -> u.withGroupOpened(GroupOpening.OPENED).withPublished()),
                        new Decision.Ack(Outcome.SUCCESS, 1)),
                row("a join without follow-ups goes out at once with the parent",
                        follow(parentRan(new RequestedFollowUps(List.of(), JOIN, null)),
                                u -> u.withGroupOpened(GroupOpening.OPENED)),
                        new FollowUpEffect.PublishFollowUps(List.of(JOIN))),
                row("parent's follow-ups not confirmed: the run fails and retries (same ids next time)",
                        follow(parentRan(FAN_OUT), u -> u.withGroupOpened(GroupOpening.OPENED)
                                .withFailure(NOT_CONFIRMED)),
                        new Decision.RetryLater(DelayTier.parse("5s"), RetryReason.ERROR, 1, 0, T0, NOT_CONFIRMED)),
                row("a parent that failed publishes nothing: its follow-ups are dropped with the run",
                        ran(admitted(envelope(PARENT_ID, null, Lineage.NONE)), new IllegalStateException("x"),
                                FAN_OUT).withFollowUps(FollowUpFacts.NONE.withRequested(FAN_OUT)),
                        new Decision.RetryLater(DelayTier.parse("5s"), RetryReason.ERROR, 1, 0, T0, null)),
                // ---- a follow-up before its run ----
                row("a follow-up without a key runs under a claim on its message id",
                        admitted(envelope(ID, null, Lineage.childOf(PARENT))),
                        new Effect.CheckAndLock(CLAIM, null, OWNER, LEASE, false)),
                row("a follow-up with a key runs under its key's lock",
                        admitted(envelope(ID, "img:1", Lineage.childOf(PARENT))),
                        new Effect.CheckAndLock("img:1", null, OWNER, LEASE, false)),
                row("a follow-up holding its claim checks its done-marker, even on a first delivery", claimed(),
                        new Effect.CheckDone(ID)),
                row("a follow-up not done runs, renewing its claim", claimedNotDone(),
                        new Effect.RunHandler(TIMEOUT, new Effect.HeldLock(CLAIM, OWNER, TOKEN, LEASE, 1L))),
                row("a follow-up whose claim is busy (another copy runs) first waits in hand like a busy key",
                        admitted(envelope(ID, null, Lineage.childOf(PARENT))).withLock(
                                new LockResult.Busy(Duration.ofSeconds(20)), 1L, 1L),
                        new Effect.AwaitLock(new Effect.CheckAndLock(CLAIM, null, OWNER, LEASE, false),
                                dev.hopper.topology.LockSpec.DEFAULT_WAIT_IN_HAND, LEASE)),
                row("a follow-up whose claim is still busy after waiting in hand waits like a busy key",
                        admitted(envelope(ID, null, Lineage.childOf(PARENT))).withLock(
                                new LockResult.Busy(Duration.ofSeconds(20)), 1L, 1L)
                                .withLockWait(new DeliveryFacts.LockWait(Duration.ofSeconds(2), 0, false)),
                        new Decision.RetryLater(DelayTier.parse("30s"), RetryReason.LOCK_BUSY, 0, 1, null, null)),
                // ---- a copy of a follow-up that is done ----
                row("a done follow-up's copy is counted again (nothing runs)", claimed().withCompletedBefore(true),
                        new FollowUpEffect.CompleteChild(PARENT, ID, null, DONE_TTL)),
                row("a done follow-up's copy whose group needs nothing is acked as duplicate",
                        follow(claimed().withCompletedBefore(true),
                                u -> u.withChildCompletion(new ChildCompletion.Counted(3, 5, true))),
                        new Decision.Ack(Outcome.DUPLICATE, 0)),
                row("a done follow-up's copy publishes a join left undone by a crash",
                        follow(claimed().withCompletedBefore(true), u -> u.withChildCompletion(DUE)),
                        new FollowUpEffect.PublishJoin(PARENT, DUE)),
                row("... then records it, then acks as duplicate",
                        follow(claimed().withCompletedBefore(true), u -> u.withChildCompletion(DUE)
                                .withJoinPublished()),
                        new FollowUpEffect.RecordJoinPublished(PARENT)),
                row("... acked as duplicate once recorded",
                        follow(claimed().withCompletedBefore(true), u -> u.withChildCompletion(DUE)
                                .withJoinPublished().withJoinRecorded()),
                        new Decision.Ack(Outcome.DUPLICATE, 0)),
                row("a done follow-up's copy that cannot finish the bookkeeping goes back unrun",
                        follow(claimed().withCompletedBefore(true), u -> u.withFailure(NOT_CONFIRMED)),
                        new Decision.HandBack(Decision.HandBack.Why.FOLLOW_UP_UNFINISHED,
                                Decision.HandBack.Via.COPY, 0)),
                row("a superseded follow-up counts as done in its group, so the join does not wait for it",
                        admitted(envelope(ID, "img:1", Lineage.childOf(PARENT))).withLock(
                                new LockResult.Superseded(5), 1L, 1L),
                        new FollowUpEffect.CompleteChild(PARENT, ID, null, DONE_TTL)),
                row("... and is acked as superseded",
                        follow(admitted(envelope(ID, "img:1", Lineage.childOf(PARENT))).withLock(
                                new LockResult.Superseded(5), 1L, 1L),
                                u -> u.withChildCompletion(new ChildCompletion.Counted(2, 3, false))),
                        new Decision.Ack(Outcome.SUPERSEDED, 0)),
                // ---- a follow-up that succeeded ----
                row("a follow-up that succeeded is counted in its parent's group with its result", childOk,
                        new FollowUpEffect.CompleteChild(PARENT, ID, "{\"n\":1}", DONE_TTL)),
                row("the last follow-up publishes the join before its ack",
                        follow(childOk, u -> u.withChildCompletion(DUE)),
                        new FollowUpEffect.PublishJoin(PARENT, DUE)),
                row("the join confirmed: record it in the group",
                        follow(childOk, u -> u.withChildCompletion(DUE).withJoinPublished()),
                        new FollowUpEffect.RecordJoinPublished(PARENT)),
                row("then the follow-up's own completion releases its claim",
                        follow(childOk, u -> u.withChildCompletion(DUE).withJoinPublished().withJoinRecorded()),
                        new Effect.Complete(CLAIM, OWNER, TOKEN, ID, DONE_TTL)),
                row("a follow-up that is not the last completes without a join",
                        follow(childOk, u -> u.withChildCompletion(new ChildCompletion.Counted(1, 2, false))),
                        new Effect.Complete(CLAIM, OWNER, TOKEN, ID, DONE_TTL)),
                row("then acks", follow(childOk, u -> u.withChildCompletion(new ChildCompletion.Counted(1, 2, false)))
                                .withCompletionRecorded(),
                        new Decision.Ack(Outcome.SUCCESS, 1)),
                row("the join could not be published: the follow-up fails and retries (its copy finishes it)",
                        follow(childOk, u -> u.withChildCompletion(DUE).withFailure(NOT_CONFIRMED)),
                        new Decision.RetryLater(DelayTier.parse("5s"), RetryReason.ERROR, 1, 0, T0, NOT_CONFIRMED)),
                // ---- dead follow-ups ----
                row("a result over its bound fails the follow-up permanently; first the group hears of it",
                        follow(childOk, u -> u.withFailure(TOO_BIG)),
                        new FollowUpEffect.RecordDead(PARENT, ID, "permanent")),
                row("... then it is dead-lettered as permanent",
                        follow(childOk, u -> u.withFailure(TOO_BIG).withDeadRecorded()),
                        Decision.DeadLetter.of(DeadReason.PERMANENT, TOO_BIG, 1)),
                row("a follow-up whose handler fails permanently is recorded dead in its group",
                        ran(claimedNotDone(), new PermanentTaskException("no such image"), RequestedFollowUps.NONE),
                        new FollowUpEffect.RecordDead(PARENT, ID, "permanent")),
                row("a task that is nobody's follow-up is dead-lettered without a group record",
                        ran(admitted(envelope(PARENT_ID, null, Lineage.NONE)), TOO_BIG, RequestedFollowUps.NONE),
                        Decision.DeadLetter.of(DeadReason.PERMANENT, TOO_BIG, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(String name, DeliveryFacts facts, Step expected) {
        Step actual = DECIDER.decide(facts);
        if (expected instanceof Decision.RetryLater e && actual instanceof Decision.RetryLater a && e.error() == null) {
            // A handler's own exception instance is not the row's; compare what the copy carries.
            assertThat(a).usingRecursiveComparison().ignoringFields("error").isEqualTo(e);
            return;
        }
        if (expected instanceof Decision.DeadLetter e && actual instanceof Decision.DeadLetter a) {
            assertThat(a).usingRecursiveComparison().ignoringFields("error").isEqualTo(e);
            return;
        }
        assertThat(actual).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void aStoreThatDoesNotAnswerBeforeTheRunHandsTheFollowUpBack() {
        assertThat(DECIDER.decide(claimed().withStoreUnavailable())).isEqualTo(new Decision.HandBack(
                Decision.HandBack.Why.STORE_UNAVAILABLE, Decision.HandBack.Via.COPY, 0));
        assertThat(new StoreUnavailableException("x")).isNotNull();
    }
}
