package dev.hopper.consumer;

import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.LockResult;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** Passes every call to a delegate; tests override what they slow down. */
class ForwardingStore implements CoordinationStore {
    private final CoordinationStore delegate;

    ForwardingStore(CoordinationStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public LockResult checkAndLock(String key, @Nullable Long revision, String owner, Duration lease,
            boolean lockIfSuperseded) {
        return delegate.checkAndLock(key, revision, owner, lease, lockIfSuperseded);
    }

    @Override
    public boolean renew(String key, String owner, long token, Duration lease) {
        return delegate.renew(key, owner, token, lease);
    }

    @Override
    public void complete(@Nullable String key, String owner, long token, String messageId, Duration doneTtl) {
        delegate.complete(key, owner, token, messageId, doneTtl);
    }

    @Override
    public void release(String key, String owner, long token) {
        delegate.release(key, owner, token);
    }

    @Override
    public boolean isCompleted(String messageId) {
        return delegate.isCompleted(messageId);
    }

    @Override
    public long currentRevision(String key) {
        return delegate.currentRevision(key);
    }

    @Override
    public long bumpRevision(String key) {
        return delegate.bumpRevision(key);
    }

    @Override
    public void close() {
        delegate.close();
    }

    // ---- follow-ups and joins ----

    @Override
    public dev.hopper.coordination.GroupOpening openGroup(dev.hopper.coordination.GroupPlan plan) {
        return delegate.openGroup(plan);
    }

    @Override
    public dev.hopper.coordination.ChildCompletion completeChild(String parentId, String childId,
            @Nullable String result, Duration doneTtl) {
        return delegate.completeChild(parentId, childId, result, doneTtl);
    }

    @Override
    public void joinPublished(String parentId) {
        delegate.joinPublished(parentId);
    }

    @Override
    public void childDead(String parentId, String childId, String reason) {
        delegate.childDead(parentId, childId, reason);
    }

    @Override
    public java.util.Optional<dev.hopper.coordination.GroupView> group(String parentId) {
        return delegate.group(parentId);
    }
}
