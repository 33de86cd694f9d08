package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The groups of {@link FollowUpStore} in this process's memory, for {@link InMemoryCoordinationStore}. Each group is
 * changed under its map entry's lock, so every operation is atomic per parent. Groups expire
 * {@link GroupPlan#retention()} after their last write on the injected monotonic clock; expired groups read as
 * absent and are swept every {@value #SWEEP_EVERY} writes, so memory is bounded by the groups written within one
 * retention. Done-markers are not kept here: the caller writes them after a successful {@link #completeChild}.
 */
final class InMemoryFollowUps {
    private static final int SWEEP_EVERY = 1024;

    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<String, Group> groups = new ConcurrentHashMap<>();
    private final AtomicLong writes = new AtomicLong();

    InMemoryFollowUps(LongSupplier nanoTime) {
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
    }

    GroupOpening openGroup(GroupPlan plan) {
        requireNonNull(plan, "plan");
        GroupOpening[] answer = new GroupOpening[1];
        groups.compute(plan.parentId(), (id, g) -> {
            long now = nanoTime.getAsLong();
            if (g != null && !g.expiredAt(now)) {
                answer[0] = g.fingerprint.equals(plan.fingerprint()) ? GroupOpening.ALREADY_OPEN
                        : GroupOpening.CONFLICT;
                return g;
            }
            answer[0] = GroupOpening.OPENED;
            Group fresh = new Group(plan);
            fresh.touch(now);
            return fresh;
        });
        sweepSometimes();
        return answer[0];
    }

    ChildCompletion completeChild(String parentId, String childId, @Nullable String result) {
        requireNonNull(parentId, "parentId");
        requireNonNull(childId, "childId");
        FollowUpStore.checkResultSize(result);
        ChildCompletion[] answer = new ChildCompletion[1];
        groups.computeIfPresent(parentId, (id, g) -> {
            long now = nanoTime.getAsLong();
            if (g.expiredAt(now)) {
                return null;
            }
            answer[0] = g.complete(childId, result);
            g.touch(now);
            return g;
        });
        sweepSometimes();
        return answer[0] != null ? answer[0] : new ChildCompletion.Untracked("no group for parent " + parentId
                + " (never opened, or expired after its retention)");
    }

    void joinPublished(String parentId) {
        requireNonNull(parentId, "parentId");
        update(parentId, g -> {
            if (g.joinState == GroupView.JoinState.WAITING) {
                g.joinState = GroupView.JoinState.PUBLISHED;
            }
        });
    }

    void childDead(String parentId, String childId, String reason) {
        requireNonNull(parentId, "parentId");
        requireNonNull(childId, "childId");
        requireNonNull(reason, "reason");
        update(parentId, g -> g.dead(childId, reason));
    }

    Optional<GroupView> group(String parentId) {
        requireNonNull(parentId, "parentId");
        GroupView[] view = new GroupView[1];
        // compute, not get: the snapshot must not see a group halfway through a change.
        groups.computeIfPresent(parentId, (id, g) -> {
            if (g.expiredAt(nanoTime.getAsLong())) {
                return null;
            }
            view[0] = g.view();
            return g;
        });
        return Optional.ofNullable(view[0]);
    }

    /** Groups held, expired ones not yet swept included; for tests of the memory bound. */
    int size() {
        return groups.size();
    }

    private void update(String parentId, java.util.function.Consumer<Group> change) {
        groups.computeIfPresent(parentId, (id, g) -> {
            long now = nanoTime.getAsLong();
            if (g.expiredAt(now)) {
                return null;
            }
            change.accept(g);
            g.touch(now);
            return g;
        });
        sweepSometimes();
    }

    private void sweepSometimes() {
        if (writes.incrementAndGet() % SWEEP_EVERY == 0) {
            long now = nanoTime.getAsLong();
            groups.values().removeIf(g -> g.expiredAt(now));
        }
    }

    /** One parent's group. Mutable; only touched inside its map entry's compute, which serialises access. */
    private static final class Group {
        final GroupPlan plan;
        final String fingerprint;
        final Map<String, Integer> indexById = new HashMap<>();
        /** Results by child index; {@code NO_RESULT} marks a child done without one. */
        final Map<Integer, String> results = new HashMap<>();
        final Map<String, String> deadReasons = new HashMap<>();
        GroupView.JoinState joinState;
        long resultBytes;
        long deadlineNanos;

        Group(GroupPlan plan) {
            this.plan = plan;
            this.fingerprint = plan.fingerprint();
            for (int i = 0; i < plan.children().size(); i++) {
                indexById.put(plan.children().get(i).id(), i);
            }
            // Nothing to wait for: the parent publishes its join together with its (zero) follow-ups.
            this.joinState = plan.children().isEmpty() ? GroupView.JoinState.PUBLISHED : GroupView.JoinState.WAITING;
        }

        boolean expiredAt(long now) {
            return deadlineNanos - now <= 0;
        }

        void touch(long now) {
            deadlineNanos = now + plan.retention().toNanos();
        }

        ChildCompletion complete(String childId, @Nullable String result) {
            JoinTask join = plan.join();
            int expected = plan.children().size();
            if (join != null && join.id().equals(childId)) {
                boolean duplicate = joinState == GroupView.JoinState.DONE;
                joinState = GroupView.JoinState.DONE;
                deadReasons.remove(childId);
                return new ChildCompletion.Counted(results.size(), expected, duplicate);
            }
            Integer index = indexById.get(childId);
            if (index == null) {
                return new ChildCompletion.Untracked("the group of parent " + plan.parentId()
                        + " does not list child " + childId);
            }
            boolean duplicate = results.containsKey(index);
            if (!duplicate) {
                long size = result == null ? 0 : result.getBytes(StandardCharsets.UTF_8).length;
                if (resultBytes + size > FollowUpStore.MAX_GROUP_RESULT_BYTES) {
                    throw tooMuch(plan.parentId(), resultBytes + size);
                }
                resultBytes += size;
                results.put(index, result == null ? NO_RESULT : result);
            }
            deadReasons.remove(childId);
            if (results.size() >= expected && join != null && joinState == GroupView.JoinState.WAITING) {
                List<@Nullable String> ordered = new ArrayList<>(expected);
                for (int i = 0; i < expected; i++) {
                    String r = results.get(i);
                    ordered.add(NO_RESULT.equals(r) ? null : r);
                }
                return new ChildCompletion.JoinDue(join, ordered, duplicate);
            }
            return new ChildCompletion.Counted(results.size(), expected, duplicate);
        }

        void dead(String childId, String reason) {
            JoinTask join = plan.join();
            if (join != null && join.id().equals(childId)) {
                if (joinState != GroupView.JoinState.DONE) {
                    deadReasons.put(childId, reason);
                }
                return;
            }
            Integer index = indexById.get(childId);
            if (index != null && !results.containsKey(index)) {
                deadReasons.put(childId, reason);
            }
        }

        GroupView view() {
            List<GroupView.ChildView> children = new ArrayList<>(plan.children().size());
            for (int i = 0; i < plan.children().size(); i++) {
                GroupPlan.Child c = plan.children().get(i);
                String r = results.get(i);
                GroupView.State state = r != null ? GroupView.State.DONE
                        : deadReasons.containsKey(c.id()) ? GroupView.State.DEAD : GroupView.State.PENDING;
                children.add(new GroupView.ChildView(i, c.id(), c.queue(), c.type(), state,
                        state == GroupView.State.DEAD ? deadReasons.get(c.id()) : null,
                        r != null && !NO_RESULT.equals(r)));
            }
            JoinTask join = plan.join();
            GroupView.JoinView joinView = null;
            if (join != null) {
                String deadReason = deadReasons.get(join.id());
                GroupView.JoinState state = deadReason != null ? GroupView.JoinState.DEAD : joinState;
                joinView = new GroupView.JoinView(join.id(), join.queue(), join.type(), state, deadReason);
            }
            return new GroupView(plan.parentId(), children, joinView);
        }
    }

    /** Marks "done without a result" in the results map; no JSON text equals it (it is not valid JSON). */
    private static final String NO_RESULT = "\u0000none";

    static FollowUpLimitException tooMuch(String parentId, long total) {
        return new FollowUpLimitException("the results of the children of parent " + parentId + " would add up to "
                + total + " bytes, over the limit of " + FollowUpStore.MAX_GROUP_RESULT_BYTES + " bytes per join: "
                + "return smaller results, or pass large data by reference (a URL or a key)");
    }
}
