package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.coordination.FollowUpLimitException;
import dev.hopper.coordination.FollowUpStore;
import dev.hopper.publisher.Task;
import dev.hopper.topology.FollowUpIds;
import dev.hopper.topology.JoinPayload;
import dev.hopper.topology.Lineage;
import dev.hopper.topology.TaskJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Collects what one handler run asks for ({@link TaskContext#followUp}, {@link TaskContext#join},
 * {@link TaskContext#result}) and checks each request when it is made, so a handler learns of a bad request where it
 * made it. Thread-safe (a handler may ask from threads of its own); closed when the run ends, after which requests
 * are refused: what a run asks for is published only if the run succeeds, and only what it asked for while running.
 */
final class FollowUpRequests {
    private final String parentId;
    private final int maxChildren;
    private final ObjectMapper mapper;
    private final List<Task> children = new ArrayList<>();
    private @Nullable Task join;
    private @Nullable String result;
    private boolean closed;

    /**
     * @param parentId the running task's message id
     * @param maxChildren the most follow-ups one run may ask for, the join not counted
     */
    FollowUpRequests(String parentId, int maxChildren, ObjectMapper mapper) {
        this.parentId = requireNonNull(parentId, "parentId");
        this.maxChildren = maxChildren;
        this.mapper = requireNonNull(mapper, "mapper");
    }

    /** @return the follow-up's message id */
    synchronized String followUp(Task task) {
        requireNonNull(task, "task");
        checkOpen();
        if (children.size() >= maxChildren) {
            throw new FollowUpLimitException("task " + parentId + " asked for more than " + maxChildren
                    + " follow-ups (the limit per parent); split the work into stages, e.g. follow-ups that have "
                    + "follow-ups of their own");
        }
        String id = FollowUpIds.of(parentId, children.size());
        children.add(task.asFollowUp(id, Lineage.childOf(parentId)));
        return id;
    }

    /** @return the join's message id */
    synchronized String join(Task task) {
        requireNonNull(task, "task");
        checkOpen();
        if (join != null) {
            throw new IllegalStateException("task " + parentId + " already asked for a join; a parent has at most one");
        }
        if (task.body().length > FollowUpStore.MAX_JOIN_PAYLOAD_BYTES) {
            throw new FollowUpLimitException("the join's payload has " + task.body().length + " bytes, over the limit "
                    + "of " + FollowUpStore.MAX_JOIN_PAYLOAD_BYTES + " bytes: the store keeps it until every child is "
                    + "done; pass large data by reference (a URL or a key) instead");
        }
        JoinPayload.check(task.body(), mapper);
        String id = FollowUpIds.join(parentId);
        join = task.asFollowUp(id, Lineage.joinOf(parentId));
        return id;
    }

    synchronized void result(String json) {
        requireNonNull(json, "json");
        checkOpen();
        FollowUpStore.checkResultSize(json);
        try {
            mapper.readTree(json.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException("a task's result must be JSON: " + TaskJson.describe(e), e);
        }
        result = json;
    }

    /** Ends the run's requests and returns them; later requests throw {@link IllegalStateException}. */
    synchronized RequestedFollowUps close() {
        closed = true;
        if (children.isEmpty() && join == null && result == null) {
            return RequestedFollowUps.NONE;
        }
        Task j = join;
        if (j != null && children.isEmpty()) {
            // Nothing to wait for: the join goes out with the parent's (zero) follow-ups, with empty results.
            j = new Task(j.queue(), j.type(), JoinPayload.withResults(j.body(), List.of(), mapper), j.key(),
                    j.revision(), j.messageId(), j.lineage());
        }
        return new RequestedFollowUps(children, j, result);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("follow-ups, joins and results must be asked for while the handler runs "
                    + "(task " + parentId + " already ended)");
        }
    }
}
