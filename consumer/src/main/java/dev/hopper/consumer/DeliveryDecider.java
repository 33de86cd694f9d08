package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import dev.hopper.coordination.CoalesceClaim;
import dev.hopper.coordination.CoalesceKey;
import dev.hopper.coordination.ChildCompletion;
import dev.hopper.coordination.FollowUpLimitException;
import dev.hopper.coordination.FollowUpStore;
import dev.hopper.coordination.GroupPlan;
import dev.hopper.coordination.JoinTask;
import dev.hopper.coordination.LockResult;
import dev.hopper.topology.CoalesceWindow;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DelayRoute;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.DurationText;
import dev.hopper.topology.Headers;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import dev.hopper.topology.RetryReason;
import dev.hopper.topology.SupersededPolicy;
import dev.hopper.topology.TaskEnvelope;
import dev.hopper.topology.TaskSchedule;
import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The one place that decides what happens to a delivery (design.md, "What a worker does with one delivery", every
 * step). {@link #decide} is a pure function of the delivery's {@link DeliveryFacts} and this queue's rules: no I/O,
 * no clock (times come from the facts), no state. It answers either a terminal {@link Decision} or the
 * {@link Effect} whose result it needs next; the executor carries the effect out, adds its result to the facts and
 * asks again. Thread-safe.
 *
 * <p>The rows, in the order they are checked (the names are those of {@code DeliveryDeciderTest}'s table):
 * <ol>
 *   <li>shutdown: a delivery that reaches a handler thread while the worker shuts down goes back unrun, as a
 *       confirmed copy (so RabbitMQ before 4.3 counts nothing against it: the consumer was cancelled first, so these
 *       are only the deliveries already prefetched); held: the same while its queue is paused by
 *       {@code Worker.pauseHandingBack} (a deployment error such as an {@code --exec} command that cannot run);
 *   <li>step 1, decode: malformed → dead {@code malformed}; unknown type → dead {@code unknown-type};
 *   <li>step 2, crash-loop guard (see "Counting only runs" below): delivered more than {@code poison-after} times →
 *       quarantine (a fresh copy marked as a suspect, through the shortest tier); a suspect runs alone on its worker
 *       and is dead {@code poison} once it started alone more than {@code poison-after} times. Without a durable
 *       store: delivered more than {@code poison-after} times → dead {@code poison};
 *   <li>step 1, payload: not valid JSON for the handler's payload type → dead {@code malformed};
 *   <li>delayed: {@code x-hopper-not-before} still ahead → hop through the largest tier that fits (outcome
 *       {@code delayed}; no attempt, no lock, no handler); still ahead after {@code DelayRoute.MAX_HOPS} hops → dead
 *       {@code hop-limit};
 *   <li>done-marker: a redelivery of a keyed (or, if marked, any) task asks the store; done → ack {@code duplicate};
 *   <li>hand-backs: store down → back unrun (copy); breaker open → back unrun (copy); rate-limit wait interrupted
 *       by shutdown → back unrun (copy);
 *   <li>start slot (durable store only): a suspect waits to run alone (refused: back as a suspect); anything else
 *       waits while a suspect runs alone (refused: back unrun, copy); a suspect that holds the worker alone counts
 *       its earlier solo starts in the store (over {@code poison-after} → dead {@code poison}), records this one, and
 *       goes on;
 *   <li>step 3, lock and revision: superseded (skip) → ack {@code superseded}; busy → first wait in hand
 *       ({@code lock.wait-in-hand}, started over at each hand-over of the lock, at most one lease; see
 *       {@link Effect.AwaitLock}); still busy after that wait, within the budget → retry {@code lock-busy} through
 *       the tier of the holder's remaining lease; busy past it → dead {@code lock-timeout}; the wait ended by
 *       shutdown → back unrun (copy);
 *       acquired, but the store answered only after the lease was over → like busy (nothing runs on a lapsed lock);
 *   <li>coalesced (a key with {@code x-hopper-coalesce}), under the key's lock: claim the run from the store; not
 *       due yet → hop until its new due time; nothing pending (another message carries the run, or a later run
 *       covered it) → ack {@code coalesced}; claimed → run with the claimed (latest) payload and count; forgotten
 *       (the store's state expired) → run its own payload. A copy that already claimed ({@code x-hopper-coalesced})
 *       runs what it carries; a failed claimed run retries or dies with what it claimed;
 *   <li>step 4, run the handler (with the lock's token; refresh runs a superseded task against the current
 *       revision);
 *   <li>step 5, outcome: success → record completion, ack; failure while the revision moved → skip: ack
 *       {@code superseded}, refresh: republish at once; permanent → dead {@code permanent}; within the policy →
 *       retry (reason {@code error}, or {@code lock-lost}); policy over → dead {@code exhausted}; interrupted by
 *       shutdown → back unrun (nack).
 * </ol>
 *
 * <p>Counting only runs (issue 17, finding 3). A worker that crashes takes every delivery it holds with it, and
 * RabbitMQ before 4.3 raises {@code x-delivery-count} for each, started or not: with prefetch 8, the seven healthy
 * tasks prefetched beside a crashing one reach the guard as fast as the crashing one. So the delivery count only
 * says "suspect": such a delivery is not dead-lettered but quarantined (a confirmed fresh copy, marked
 * {@code x-hopper-suspect}, delivery count 0). A suspect runs alone on its worker ({@link StartSlots}: it waits for
 * what runs and nothing else starts until it is settled), and just before it starts it writes a marker for this
 * solo start in the coordination store ({@code suspect-run:<n>:<id>}, kept as long as done-markers). Only a crash
 * while it runs alone can follow such a marker, so the markers count its own runs exactly, however often it was
 * redelivered unstarted; more than {@code poison-after} markers → dead {@code poison}. Only suspects pay the store
 * calls (at most {@code poison-after + 2}). Chosen over counting every redelivered delivery's starts because a
 * healthy task started beside a crashing one (concurrency above 1) would be counted for the other's crashes; alone,
 * nothing else was running. The fallback, when the store does not outlive a worker (in-memory), is the delivery count
 * as before (a worker's crash would also wipe the markers), documented in docs/reliability.md. A suspect whose
 * delivery count again passes {@code poison-after} while it waits is quarantined again (so the broker's delivery
 * limit never takes it).
 *
 * <p>A handler that returned normally succeeded, even if its timeout fired while it was returning (its work is
 * done; retrying it would run it twice). A timeout is a failure only when the handler ended by throwing.
 */
final class DeliveryDecider {
    private final QueueSpec spec;
    private final Set<String> registeredTypes;
    private final boolean markUnkeyedDone;
    private final Duration doneMarkerTtl;
    private final Duration groupRetention;
    private final boolean durableStarts;

    /**
     * @param registeredTypes the task types with a handler of their own (named in {@code unknown-type} errors)
     * @param markUnkeyedDone also check and record done-markers for tasks without a key
     */
    DeliveryDecider(QueueSpec spec, Set<String> registeredTypes, boolean markUnkeyedDone, Duration doneMarkerTtl) {
        this(spec, registeredTypes, markUnkeyedDone, doneMarkerTtl, FollowUpStore.DEFAULT_RETENTION);
    }

    /** @param groupRetention how long a follow-up group outlives its last change in the store */
    DeliveryDecider(QueueSpec spec, Set<String> registeredTypes, boolean markUnkeyedDone, Duration doneMarkerTtl,
            Duration groupRetention) {
        this(spec, registeredTypes, markUnkeyedDone, doneMarkerTtl, groupRetention, false);
    }

    /**
     * @param durableStarts the coordination store outlives a worker's crash (Redis): the crash-loop guard counts a
     *     suspect's solo starts there; false (in-memory) falls back to the broker's delivery count
     */
    DeliveryDecider(QueueSpec spec, Set<String> registeredTypes, boolean markUnkeyedDone, Duration doneMarkerTtl,
            Duration groupRetention, boolean durableStarts) {
        this.durableStarts = durableStarts;
        this.spec = requireNonNull(spec, "spec");
        this.groupRetention = requireNonNull(groupRetention, "groupRetention");
        this.registeredTypes = Set.copyOf(new TreeSet<>(registeredTypes));
        this.markUnkeyedDone = markUnkeyedDone;
        this.doneMarkerTtl = requireNonNull(doneMarkerTtl, "doneMarkerTtl");
    }

    Step decide(DeliveryFacts f) {
        Step step = decideStep(f);
        TaskEnvelope env = f.envelope();
        if (step instanceof Decision.DeadLetter dl && env != null && f.followUps().deadRecorded() == null) {
            String parent = env.lineage().parentId();
            if (parent != null) {
                // A dead follow-up holds its parent's join: say so in the group, so group show can name it.
                return new FollowUpEffect.RecordDead(parent, env.messageId(), dl.reason().wireValue());
            }
        }
        return step;
    }

    private Step decideStep(DeliveryFacts f) {
        DeliveryFacts.Arrival a = f.arrival();
        Reading reading = a.reading();
        TaskEnvelope env = reading.envelope();
        int attempt = env == null ? 0 : env.attempt();
        if (f.handler() == null && a.shuttingDown()) {
            return new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.COPY, attempt);
        }
        if (f.handler() == null && a.held()) {
            return new Decision.HandBack(Decision.HandBack.Why.HELD, Decision.HandBack.Via.COPY, attempt);
        }
        // 1. Decode.
        if (reading instanceof Reading.Malformed m) {
            return Decision.DeadLetter.of(DeadReason.MALFORMED, m.reason(), null);
        }
        if (reading instanceof Reading.UnknownType u) {
            return Decision.DeadLetter.of(DeadReason.UNKNOWN_TYPE, "no handler for type '"
                    + Headers.truncate(u.envelope().type(), 100) + "' on queue " + spec.name() + " (registered: "
                    + String.join(", ", new TreeSet<>(registeredTypes)) + ")", null);
        }
        requireNonNull(env, "envelope");
        // 2. Crash-loop guard: a delivery the broker keeps handing out without settlement kills workers.
        if (a.deliveryCount() > spec.poisonAfter()) {
            if (durableStarts) {
                // Only a suspect: the count also rises for deliveries that never started (see the class notes).
                return new Decision.Quarantine(DelayTier.pick(spec.tiers(), Duration.ZERO), suspectCount(f), attempt);
            }
            return Decision.DeadLetter.of(DeadReason.POISON, "delivered " + (a.deliveryCount() + 1)
                    + " times without being settled (poison-after " + spec.poisonAfter()
                    + "): it crashes or hangs workers", attempt);
        }
        if (reading instanceof Reading.BadPayload b) {
            return Decision.DeadLetter.of(DeadReason.MALFORMED, "body is not valid JSON for " + b.payloadType()
                    + ": " + b.problem(), null);
        }
        // Delayed task: not before its time; back through a tier, no attempt, no lock, no handler.
        TaskSchedule schedule = reading.schedule();
        Instant notBefore = schedule.notBefore();
        if (notBefore != null) {
            Instant now = f.now();
            if (now == null) {
                return new Effect.ReadClock();
            }
            if (now.isBefore(notBefore)) {
                return hop(env, schedule, notBefore, now);
            }
        }
        if (f.storeUnavailable()) {
            return new Decision.HandBack(Decision.HandBack.Why.STORE_UNAVAILABLE, Decision.HandBack.Via.COPY,
                    attempt);
        }
        String key = env.key();
        boolean parented = env.lineage().hasParent();
        boolean marked = key != null || markUnkeyedDone || parented;
        // A follow-up runs only under a lock: its key's, or a claim on its message id when it has no key, so two
        // copies (a parent that ran twice publishes its follow-ups twice) never run at once.
        String lockKey = key != null ? key : parented ? claimKey(env.messageId()) : null;
        // Done-marker: the previous worker finished the handler but died before its ack. (A follow-up checks its
        // marker once it holds its lock, below: a copy may be a first delivery.) With markUnkeyedDone every delivery
        // is checked, not only redeliveries: a publisher that lost its confirm sends the task again under the same
        // id (hopper publish --resume), and that copy arrives as a fresh delivery.
        if (marked && !parented && (a.redelivered() || a.deliveryCount() > 0 || a.suspect() || markUnkeyedDone)) {
            Boolean done = f.completedBefore();
            if (done == null) {
                return new Effect.CheckDone(env.messageId());
            }
            if (done) {
                return new Decision.Ack(Outcome.DUPLICATE, attempt);
            }
        }
        Boolean admitted = f.admitted();
        if (admitted == null) {
            return new Effect.Admit();
        }
        if (!admitted) {
            // Circuit breaker open: back unrun, no attempt counted, so waiting tasks keep their retries.
            return new Decision.HandBack(Decision.HandBack.Why.BREAKER_OPEN, Decision.HandBack.Via.COPY, attempt);
        }
        Boolean permitted = f.startPermitted();
        if (permitted == null) {
            return new Effect.AwaitStart();
        }
        if (!permitted) {
            return new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.COPY, attempt);
        }
        if (durableStarts) {
            Step solo = startSlot(f, env, attempt);
            if (solo != null) {
                return solo;
            }
        }
        // 3. Lock and revision.
        LockResult.Acquired acquired = null;
        if (lockKey != null) {
            LockResult lock = f.lock();
            if (lock == null) {
                return checkAndLock(lockKey, key == null ? null : env.revision(), a.lockOwner());
            }
            if (lock instanceof LockResult.Superseded) {
                // A superseded follow-up counts as done in its group (without a result): its join must not wait
                // for a run that will never happen.
                return parented ? settledFollowUp(f, env, attempt, Outcome.SUPERSEDED)
                        : new Decision.Ack(Outcome.SUPERSEDED, attempt);
            }
            if (lock instanceof LockResult.Busy b) {
                DeliveryFacts.LockWait waited = f.lockWait();
                if (waited == null && !spec.lock().waitInHand().isZero()) {
                    // Wait in hand first: the holder is often done in milliseconds, and a tier takes seconds.
                    Duration lease = spec.lock().lease();
                    return new Effect.AwaitLock(checkAndLock(lockKey, key == null ? null : env.revision(),
                            a.lockOwner()), spec.lock().waitInHand(), lease);
                }
                if (waited != null && waited.stopped()) {
                    return new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.COPY, attempt);
                }
                return onLockBusy(env, b.remainingLease());
            }
            acquired = (LockResult.Acquired) lock;
            if (f.lockAnsweredAtNanos() - f.lockRequestedAtNanos() >= spec.lock().lease().toNanos()) {
                // The store answered after the lease it granted was over: the lock may already be someone else's.
                // Run nothing; wait like a busy key (the lease is released before settling).
                return onLockBusy(env, spec.lock().lease());
            }
        }
        if (parented && f.handler() == null) {
            Boolean done = f.completedBefore();
            if (done == null) {
                return new Effect.CheckDone(env.messageId());
            }
            if (done) {
                return settledFollowUp(f, env, attempt, Outcome.DUPLICATE);
            }
        }
        // The run slot (the queue's concurrency, RunSlots): taken only now, right before the run. A lock taken before
        // the delivery had a thread was kept renewed while it waited for one (DeadlineSweeper.holdQueued: the
        // queued lease), and is while it waits for a slot.
        long leaseFrom = f.lockRequestedAtNanos();
        if (f.handler() == null) {
            DeliveryFacts.QueuedLease queued = f.queuedLease();
            if (acquired != null && queued != null) {
                if (!queued.kept()) {
                    // Lost while waiting for a thread (a renewal refused, or the store restarted): wait like a busy
                    // key, unrun.
                    return onLockBusy(env, spec.lock().lease());
                }
                leaseFrom = queued.confirmedFromNanos();
            }
            DeliveryFacts.RunSlot slot = f.runSlot();
            if (slot == null) {
                return new Effect.TakeRunSlot(acquired == null ? null : new Effect.HeldLock(requireNonNull(lockKey),
                        a.lockOwner(), acquired.fencingToken(), spec.lock().lease(), leaseFrom));
            }
            if (slot.lockLost()) {
                // Expired (and maybe taken) while waiting: wait like a busy key, unrun.
                return onLockBusy(env, spec.lock().lease());
            }
            if (!slot.taken()) {
                return new Decision.HandBack(slot.stopped() ? Decision.HandBack.Why.SHUTDOWN
                        : Decision.HandBack.Why.NO_START_SLOT, Decision.HandBack.Via.COPY, attempt);
            }
            if (acquired != null) {
                // The run's lease renewals start a third of a lease into the run and count from the last confirmed
                // lease: one more than a quarter old (the store was silent during the wait) is renewed first.
                DeliveryFacts.LockRenewal renewal = f.lockRenewal();
                leaseFrom = slot.renewed() ? slot.renewedAtNanos() : leaseFrom;
                if (renewal == null && slot.atNanos() - leaseFrom > spec.lock().lease().toNanos() / 4) {
                    return new Effect.RenewLock(requireNonNull(lockKey), a.lockOwner(), acquired.fencingToken(),
                            spec.lock().lease());
                }
                if (renewal != null) {
                    if (!renewal.renewed()) {
                        return onLockBusy(env, spec.lock().lease());
                    }
                    leaseFrom = renewal.sentAtNanos();
                }
            }
        }
        // Coalesced run: claim it from the store (under the key's lock, so two runs of a key never overlap).
        CoalescedRun coalesced = null;
        CoalesceWindow window = schedule.coalesce();
        if (window != null && key != null) {
            Reading.Readable task = (Reading.Readable) reading;
            Long carried = schedule.coalesced();
            if (carried != null) {
                // A copy of a run that already claimed (its retry): it carries the claimed payload and count.
                coalesced = new CoalescedRun(task.payload(), env.body(), carried);
            } else {
                DeliveryFacts.ClaimAnswer claim = f.claim();
                if (claim == null) {
                    return new Effect.Claim(new CoalesceKey(spec.name(), env.type(), key), env.messageId(), window);
                }
                CoalesceClaim answer = claim.result();
                if (answer instanceof CoalesceClaim.NotDue notDue) {
                    // Its due time moved later: hop again, as a delayed task.
                    return hop(env, schedule, notDue.due(), claim.at());
                }
                if (answer instanceof CoalesceClaim.NothingPending) {
                    return new Decision.Ack(Outcome.COALESCED, attempt);
                }
                if (answer instanceof CoalesceClaim.Claimed) {
                    coalesced = claim.run();
                    if (coalesced == null) {
                        return Decision.DeadLetter.of(DeadReason.MALFORMED, "the coalesced payload claimed for this run"
                                + " is not valid JSON for the handler: " + claim.problem(), attempt);
                    }
                } else {
                    // Forgotten: the store's state for the key expired; run this delivery's own payload.
                    coalesced = new CoalescedRun(task.payload(), env.body(), 0);
                }
            }
        }
        // 4. Run the handler.
        HandlerOutcome h = f.handler();
        if (h == null) {
            return new Effect.RunHandler(spec.handlerTimeout(), acquired == null || lockKey == null ? null
                    : new Effect.HeldLock(lockKey, a.lockOwner(), acquired.fencingToken(), spec.lock().lease(),
                            leaseFrom), coalesced);
        }
        // 5. Outcome.
        Throwable failure = failureOf(h, spec.handlerTimeout());
        if (failure == null) {
            Instant firstRun = env.firstAttemptAt() == null ? h.startedAt() : env.firstAttemptAt();
            Step followUps = afterSuccess(f, env, firstRun, h.finishedAt());
            if (followUps != null) {
                return followUps;
            }
            if (marked && !f.completionRecorded()) {
                // Before the ack: a worker dying between the two leaves a done-marker, so the redelivery is a no-op.
                return new Effect.Complete(lockKey, a.lockOwner(), acquired == null ? 0 : acquired.fencingToken(),
                        env.messageId(), doneMarkerTtl);
            }
            return new Decision.Ack(Outcome.SUCCESS, attempt + 1);
        }
        if (h.shuttingDown() && h.stop() == HandlerRun.Stop.NONE && failure instanceof InterruptedException) {
            // The worker interrupted this run itself (shutdown past the drain): not the task's failure.
            return new Decision.HandBack(Decision.HandBack.Why.SHUTDOWN, Decision.HandBack.Via.NACK, attempt);
        }
        boolean revisionMoved = false;
        if (acquired != null && key != null) {
            OptionalLong after = f.revisionAfter();
            if (after == null) {
                return new Effect.ReadRevision(requireNonNull(key));
            }
            revisionMoved = after.isPresent() && after.getAsLong() > acquired.currentRevision();
        }
        Instant firstAttemptAt = env.firstAttemptAt() == null ? h.startedAt() : env.firstAttemptAt();
        Decision failed = onFailure(env, failure, h.stop() == HandlerRun.Stop.LEASE_LOST, revisionMoved,
                firstAttemptAt, h.finishedAt());
        // A failed coalesced run retries (or dies) with the payload it claimed, not the one it was published with.
        if (failed instanceof Decision.RetryLater r) {
            return r.withCoalesced(coalesced);
        }
        if (failed instanceof Decision.DeadLetter d) {
            return d.withCoalesced(coalesced);
        }
        return failed;
    }

    /**
     * The start slot (durable store only): a suspect runs alone and counts its solo starts in the store; anything
     * else runs beside others but not beside a suspect. Null once the delivery may go on.
     */
    private @Nullable Step startSlot(DeliveryFacts f, TaskEnvelope env, int attempt) {
        boolean suspect = f.arrival().suspect();
        DeliveryFacts.Isolation slot = f.isolation();
        if (slot == null) {
            return new Effect.Isolate(suspect);
        }
        if (slot == DeliveryFacts.Isolation.REFUSED) {
            return suspect ? new Decision.Quarantine(DelayTier.pick(spec.tiers(), Duration.ZERO), suspectCount(f),
                    attempt) : new Decision.HandBack(Decision.HandBack.Why.NO_START_SLOT, Decision.HandBack.Via.COPY,
                            attempt);
        }
        if (!suspect) {
            return null;
        }
        Integer starts = f.soloStarts();
        if (starts == null) {
            return new Effect.CountSoloStarts(env.messageId(), spec.poisonAfter() + 1);
        }
        if (starts > spec.poisonAfter()) {
            return Decision.DeadLetter.of(DeadReason.POISON, "started alone on its worker " + starts
                    + " times without being settled (poison-after " + spec.poisonAfter()
                    + "): it crashes or hangs workers", attempt);
        }
        if (!f.soloStartRecorded()) {
            return new Effect.RecordSoloStart(soloStartId(env.messageId(), starts), doneMarkerTtl);
        }
        return null;
    }

    /** What a quarantine copy carries as {@code x-hopper-suspect}: the solo starts known so far. */
    private static int suspectCount(DeliveryFacts f) {
        Integer starts = f.soloStarts();
        if (starts != null) {
            return starts;
        }
        return f.arrival().suspect() ? f.arrival().suspectCrashes() : 0;
    }

    /** The store marker of a suspect's solo start number {@code n} (0-based), kept like a done-marker. */
    static String soloStartId(String messageId, int n) {
        return "suspect-run:" + n + ":" + messageId;
    }

    /**
     * A task that must wait until {@code notBefore}: back through the largest tier that fits ({@link DelayRoute}),
     * or dead as {@code hop-limit} once it has hopped {@link DelayRoute#MAX_HOPS} times and is still early.
     */
    private Decision hop(TaskEnvelope env, TaskSchedule schedule, Instant notBefore, Instant now) {
        Duration left = Duration.between(now, notBefore);
        if (schedule.hops() >= DelayRoute.MAX_HOPS) {
            return Decision.DeadLetter.of(DeadReason.HOP_LIMIT, "still " + DurationText.format(
                    left.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)) + " before its not-before time "
                    + notBefore + " after " + schedule.hops() + " hops through the delay tiers (at most "
                    + DelayRoute.MAX_HOPS + ")", env.attempt());
        }
        return new Decision.Hop(DelayRoute.nextHop(spec.tiers(), left), notBefore, schedule.hops() + 1,
                env.attempt());
    }

    // ---- follow-ups and joins: the protocol of FollowUpStore, as rows ----

    /** The lock name of a follow-up without a key: a claim on its message id, apart from any entity key. */
    static String claimKey(String messageId) {
        return FollowUpStore.claimKey(messageId);
    }

    /**
     * After a successful run, before the task's own completion and ack: its follow-ups (record the group, publish
     * them all confirmed), then, for a follow-up, its count in its parent's group and, if that made the join due, the
     * join (publish confirmed, record). Null when nothing is left to do. A failed step fails the run under its retry
     * policy (a bound that was hit: permanently), and the next run publishes the same ids again.
     */
    private @Nullable Step afterSuccess(DeliveryFacts f, TaskEnvelope env, Instant firstAttemptAt, Instant now) {
        FollowUpFacts u = f.followUps();
        Throwable failed = u.failure();
        if (failed != null) {
            return onFailure(env, failed, false, false, firstAttemptAt, now);
        }
        RequestedFollowUps r = u.requested() == null ? RequestedFollowUps.NONE : u.requested();
        if (r.any()) {
            if (u.groupOpened() == null) {
                return new FollowUpEffect.OpenGroup(plan(env.messageId(), r));
            }
            if (u.published() == null) {
                List<dev.hopper.publisher.Task> tasks = new java.util.ArrayList<>(r.children());
                if (r.children().isEmpty() && r.join() != null) {
                    tasks.add(r.join()); // nothing to wait for: the join goes out now, with empty results
                }
                return new FollowUpEffect.PublishFollowUps(tasks);
            }
        }
        String parent = env.lineage().parentId();
        if (parent == null) {
            return null;
        }
        if (u.childCompletion() == null) {
            return new FollowUpEffect.CompleteChild(parent, env.messageId(), r.result(), doneMarkerTtl);
        }
        return joinSteps(parent, u);
    }

    /**
     * A follow-up that does not run: its done-marker exists (a redelivery after a crash, or a copy published by a
     * parent that ran twice: {@code outcome} duplicate), or it is superseded. It is counted in its group (again),
     * and if its group's join is due and not recorded as published (the worker that completed the last child died
     * before publishing it), the join is published. Then it is acked with {@code outcome}.
     */
    private Step settledFollowUp(DeliveryFacts f, TaskEnvelope env, int attempt, Outcome outcome) {
        FollowUpFacts u = f.followUps();
        String parent = requireNonNull(env.lineage().parentId());
        if (u.failure() != null) {
            // Nothing ran: hand it back and let the next delivery finish the join's bookkeeping.
            return new Decision.HandBack(Decision.HandBack.Why.FOLLOW_UP_UNFINISHED, Decision.HandBack.Via.COPY,
                    attempt);
        }
        if (u.childCompletion() == null) {
            return new FollowUpEffect.CompleteChild(parent, env.messageId(), null, doneMarkerTtl);
        }
        Step join = joinSteps(parent, u);
        return join != null ? join : new Decision.Ack(outcome, attempt);
    }

    private static @Nullable Step joinSteps(String parent, FollowUpFacts u) {
        if (u.childCompletion() instanceof ChildCompletion.JoinDue due) {
            if (u.joinPublished() == null) {
                return new FollowUpEffect.PublishJoin(parent, due);
            }
            if (u.joinRecorded() == null) {
                return new FollowUpEffect.RecordJoinPublished(parent);
            }
        }
        return null;
    }

    private GroupPlan plan(String parentId, RequestedFollowUps r) {
        List<GroupPlan.Child> children = new java.util.ArrayList<>(r.children().size());
        for (dev.hopper.publisher.Task t : r.children()) {
            children.add(new GroupPlan.Child(t.messageId(), t.queue(), t.type()));
        }
        dev.hopper.publisher.Task j = r.join();
        JoinTask join = j == null ? null : new JoinTask(j.messageId(), j.queue(), j.type(), j.key(), j.bodyText());
        return new GroupPlan(parentId, children, join, groupRetention);
    }

    // ---- end of follow-ups and joins ----

    private Effect.CheckAndLock checkAndLock(String lockKey, @Nullable Long revision, String owner) {
        return new Effect.CheckAndLock(lockKey, revision, owner, spec.lock().lease(),
                spec.lock().superseded() == SupersededPolicy.REFRESH);
    }

    private Decision onLockBusy(TaskEnvelope env, Duration remainingLease) {
        int maxWaits = spec.lock().maxWaits();
        if (env.lockWaits() >= maxWaits) {
            return Decision.DeadLetter.of(DeadReason.LOCK_TIMEOUT, "the key's lock stayed busy through "
                    + env.lockWaits() + " waits (lock max-waits " + maxWaits + ")", env.attempt());
        }
        return new Decision.RetryLater(DelayTier.pick(spec.tiers(), remainingLease), RetryReason.LOCK_BUSY,
                env.attempt(), env.lockWaits() + 1, null, null);
    }

    private Decision onFailure(TaskEnvelope env, Throwable error, boolean leaseLost, boolean revisionMoved,
            Instant firstAttemptAt, Instant now) {
        int runs = env.attempt() + 1;
        if (revisionMoved) {
            // The world changed while the task failed: the failure may be what the new revision fixes.
            return spec.lock().superseded() == SupersededPolicy.SKIP
                    ? new Decision.Ack(Outcome.SUPERSEDED, runs)
                    : new Decision.Republish(RetryReason.REVISION_CHANGED, firstAttemptAt, runs);
        }
        RetryPolicy policy = spec.retryFor(env.type());
        if (!leaseLost && isPermanent(error, policy)) {
            return Decision.DeadLetter.of(DeadReason.PERMANENT, error, runs);
        }
        if (runs >= policy.maxAttempts()) {
            return Decision.DeadLetter.of(DeadReason.EXHAUSTED, error, runs);
        }
        Duration age = Duration.between(firstAttemptAt, now);
        if (age.isNegative()) {
            age = Duration.ZERO; // a clock step backwards must not make a task younger than it is
        }
        Optional<Duration> maxAge = policy.maxAgeLimit();
        if (maxAge.isPresent() && age.compareTo(maxAge.get()) >= 0) {
            return Decision.DeadLetter.of(DeadReason.EXHAUSTED, error, runs);
        }
        Optional<Duration> delay = wantedDelay(policy, runs, age);
        if (delay.isEmpty()) {
            return Decision.DeadLetter.of(DeadReason.EXHAUSTED, error, runs);
        }
        RetryReason reason = leaseLost ? RetryReason.LOCK_LOST : RetryReason.ERROR;
        return new Decision.RetryLater(DelayTier.pick(spec.tiers(), delay.get()), reason, runs, env.lockWaits(),
                firstAttemptAt, error);
    }

    /**
     * What a run's failure is, or null for a success. A normal return is a success even when a timeout fired as
     * it returned; a lost lease fails even a normal return (another worker may run the key meanwhile).
     */
    static @Nullable Throwable failureOf(HandlerOutcome h, Duration timeout) {
        if (h.thrown() == null) {
            return h.stop() == HandlerRun.Stop.LEASE_LOST
                    ? new HopperException("the key's lock was lost while the handler ran") : null;
        }
        if (h.stop() == HandlerRun.Stop.TIMEOUT) {
            return new HandlerTimeoutException(timeout);
        }
        return h.thrown();
    }

    /**
     * How the circuit breaker hears about this delivery once it is settled: only a handler failure that says
     * something about the downstream counts (not the task's own fault: permanent, lost lock; not a shutdown).
     */
    BreakerReport breakerReport(DeliveryFacts f) {
        HandlerOutcome h = f.handler();
        if (!Boolean.TRUE.equals(f.admitted())) {
            return BreakerReport.NONE;
        }
        if (h == null) {
            return BreakerReport.NOT_COUNTED;
        }
        Throwable failure = failureOf(h, spec.handlerTimeout());
        if (failure == null) {
            return BreakerReport.SUCCESS;
        }
        TaskEnvelope env = requireNonNull(f.envelope());
        boolean ownFault = h.stop() == HandlerRun.Stop.LEASE_LOST || isPermanent(failure, spec.retryFor(env.type()))
                || (h.shuttingDown() && failure instanceof InterruptedException);
        return ownFault ? BreakerReport.NOT_COUNTED : BreakerReport.FAILURE;
    }

    /** What to tell the circuit breaker after settling. */
    enum BreakerReport {
        /** No permission was taken. */
        NONE,
        /** Give the permission back uncounted. */
        NOT_COUNTED,
        SUCCESS,
        FAILURE
    }

    /** How long the policy wants to wait before run number {@code runs + 1}; empty when it is over. */
    static Optional<Duration> wantedDelay(RetryPolicy p, int runs, Duration age) {
        if (!p.delays().isEmpty()) {
            return Optional.of(p.delays().get(Math.min(runs - 1, p.delays().size() - 1)));
        }
        if (!p.schedule().isEmpty()) {
            return p.scheduledDelay(age);
        }
        RetryPolicy.Backoff b = requireNonNull(p.backoff());
        IntervalFunction f = b.jitter() > 0
                ? IntervalFunction.ofExponentialRandomBackoff(b.initial(), b.multiplier(), b.jitter(), b.max())
                : IntervalFunction.ofExponentialBackoff(b.initial(), b.multiplier(), b.max());
        return Optional.of(Duration.ofMillis(f.apply(runs)));
    }

    /**
     * Permanent when the error (or a superclass) is {@link PermanentTaskException} or listed in
     * {@code permanent-on}, or when {@code retry-on} is non-empty and the error matches none of it.
     */
    static boolean isPermanent(Throwable error, RetryPolicy p) {
        if (error instanceof PermanentTaskException || error instanceof FollowUpLimitException
                || matches(error, p.permanentOn())) {
            return true;
        }
        return !p.retryOn().isEmpty() && !(error instanceof HandlerTimeoutException) && !matches(error, p.retryOn());
    }

    private static boolean matches(@Nullable Throwable error, List<String> classNames) {
        if (error == null || classNames.isEmpty()) {
            return false;
        }
        for (Class<?> c = error.getClass(); c != null; c = c.getSuperclass()) {
            if (classNames.contains(c.getName())) {
                return true;
            }
        }
        return false;
    }
}
