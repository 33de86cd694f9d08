package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.coordination.ChildCompletion;
import dev.hopper.coordination.CoordinationStore;
import dev.hopper.coordination.FollowUpLimitException;
import dev.hopper.coordination.JoinTask;
import dev.hopper.coordination.StoreUnavailableException;
import dev.hopper.publisher.Task;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.JoinPayload;
import dev.hopper.topology.Lineage;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.TaskEnvelope;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the {@link FollowUpEffect}s for {@link DeliveryEffects} and adds their results to the facts. It decides
 * nothing: a failed step is added as the fact {@code failure} and the decider chooses what follows. Publishes go to
 * {@code hopper.tasks} on the worker's confirm channel and are waited for at most {@code confirmWait}. Thread-safe;
 * one per queue.
 */
final class FollowUpEffects {
    private static final Logger log = LoggerFactory.getLogger(FollowUpEffects.class);

    /** What the follow-up effects need from their worker. */
    record Setup(CoordinationStore store, StoreHealth health, CopyPublisher publisher, Clock clock,
            Duration confirmWait, ObjectMapper mapper, int maxChildren, WorkerListener listener) {
        Setup {
            requireNonNull(store, "store");
            requireNonNull(health, "health");
            requireNonNull(publisher, "publisher");
            requireNonNull(clock, "clock");
            requireNonNull(confirmWait, "confirmWait");
            requireNonNull(mapper, "mapper");
            requireNonNull(listener, "listener");
            if (maxChildren < 1) {
                throw new IllegalArgumentException("maxChildren must be >= 1, was " + maxChildren);
            }
        }
    }

    private final String queue;
    private final Setup setup;

    FollowUpEffects(String queue, Setup setup) {
        this.queue = requireNonNull(queue, "queue");
        this.setup = requireNonNull(setup, "setup");
    }

    /** A collector for one handler run of {@code env}. */
    FollowUpRequests newRequests(TaskEnvelope env) {
        return new FollowUpRequests(env.messageId(), setup.maxChildren(), setup.mapper());
    }

    DeliveryFacts run(FollowUpEffect effect, DeliveryFacts f) {
        FollowUpFacts facts = f.followUps();
        CoordinationStore store = setup.store();
        if (effect instanceof FollowUpEffect.OpenGroup o) {
            try {
                return f.withFollowUps(facts.withGroupOpened(store.openGroup(o.plan())));
            } catch (RuntimeException e) {
                return failed(f, "could not record the follow-ups of " + o.plan().parentId(), e);
            }
        }
        if (effect instanceof FollowUpEffect.PublishFollowUps p) {
            try {
                publishAll(p.tasks());
            } catch (FollowUpPublishException e) {
                return f.withFollowUps(facts.withFailure(e));
            }
            report(f, p.tasks().size(), false);
            return f.withFollowUps(facts.withPublished());
        }
        if (effect instanceof FollowUpEffect.CompleteChild c) {
            try {
                ChildCompletion answer = store.completeChild(c.parentId(), c.messageId(), c.result(), c.doneTtl());
                if (answer instanceof ChildCompletion.Untracked u) {
                    log.warn("follow-up completed outside any group queue={} id={} parent={}: {}", queue,
                            c.messageId(), c.parentId(), u.reason());
                }
                return f.withFollowUps(facts.withChildCompletion(answer));
            } catch (FollowUpLimitException e) {
                return f.withFollowUps(facts.withFailure(e));
            } catch (RuntimeException e) {
                return failed(f, "could not count follow-up " + c.messageId() + " of " + c.parentId(), e);
            }
        }
        if (effect instanceof FollowUpEffect.PublishJoin j) {
            Task join;
            try {
                join = joinTask(j.parentId(), j.due());
            } catch (IllegalArgumentException e) {
                // The payload was checked when the join was asked for; a store edited by hand could still do this.
                return f.withFollowUps(facts.withFailure(new FollowUpLimitException("the join of " + j.parentId()
                        + " cannot be built: " + e.getMessage())));
            }
            try {
                publishAll(List.of(join));
            } catch (FollowUpPublishException e) {
                return f.withFollowUps(facts.withFailure(e));
            }
            log.info("join published queue={} parent={} join={} children={}", queue, j.parentId(), join.messageId(),
                    j.due().results().size());
            report(f, 0, true);
            return f.withFollowUps(facts.withJoinPublished());
        }
        if (effect instanceof FollowUpEffect.RecordJoinPublished r) {
            try {
                store.joinPublished(r.parentId());
            } catch (RuntimeException e) {
                // The join went out; without the record a duplicate of a child may publish it again, and the
                // copy is then acked as a duplicate by its done-marker.
                log.warn("could not record the join of {} as published queue={}: {}", r.parentId(), queue,
                        e.toString());
            }
            return f.withFollowUps(facts.withJoinRecorded());
        }
        FollowUpEffect.RecordDead d = (FollowUpEffect.RecordDead) effect;
        try {
            store.childDead(d.parentId(), d.messageId(), d.reason());
        } catch (RuntimeException e) {
            log.warn("could not record dead follow-up {} of {} queue={} (group show will call it pending): {}",
                    d.messageId(), d.parentId(), queue, e.toString());
        }
        return f.withFollowUps(facts.withDeadRecorded());
    }

    /** The join as the parent asked for it, its payload with the children's results, its id and lineage. */
    Task joinTask(String parentId, ChildCompletion.JoinDue due) {
        JoinTask j = due.join();
        byte[] payload = JoinPayload.withResults(j.payload().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                due.results(), setup.mapper());
        return Task.builder(setup.mapper()).queue(j.queue()).type(j.type()).key(j.key()).jsonPayload(payload).build()
                .asFollowUp(j.id(), Lineage.joinOf(parentId));
    }

    private void publishAll(List<Task> tasks) {
        List<CompletableFuture<Void>> confirms = new ArrayList<>(tasks.size());
        try {
            for (Task t : tasks) {
                TaskEnvelope env = TaskEnvelope.fresh(t.messageId(), t.type(), t.key(), t.revision(),
                        setup.clock().instant(), t.body()).withLineage(t.lineage());
                confirms.add(setup.publisher().publish(QueueNames.TASKS_EXCHANGE, t.queue(),
                        EnvelopeCodec.properties(env), t.body()));
            }
            long deadline = System.nanoTime() + setup.confirmWait().toNanos();
            for (int i = 0; i < confirms.size(); i++) {
                long left = Math.max(1, deadline - System.nanoTime());
                try {
                    confirms.get(i).get(left, TimeUnit.NANOSECONDS);
                } catch (ExecutionException e) {
                    Task t = tasks.get(i);
                    throw new FollowUpPublishException("follow-up " + t.messageId() + " to queue '" + t.queue()
                            + "' was not confirmed: " + e.getCause(), e.getCause());
                }
            }
        } catch (TimeoutException e) {
            throw new FollowUpPublishException(confirms.size() + " follow-ups were not all confirmed within "
                    + setup.confirmWait(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FollowUpPublishException("interrupted while waiting for follow-ups to be confirmed", e);
        } catch (RuntimeException e) {
            if (e instanceof FollowUpPublishException p) {
                throw p;
            }
            throw new FollowUpPublishException("could not publish follow-ups: " + e, e);
        }
    }

    private DeliveryFacts failed(DeliveryFacts f, String what, RuntimeException e) {
        if (e instanceof StoreUnavailableException s) {
            setup.health().unavailable(s);
        }
        return f.withFollowUps(f.followUps().withFailure(new FollowUpPublishException(what + ": " + e.getMessage(),
                e)));
    }

    private void report(DeliveryFacts f, int followUps, boolean join) {
        TaskEnvelope env = f.envelope();
        String type = env == null ? WorkerMetrics.UNKNOWN_TYPE : env.type();
        try {
            if (followUps > 0) {
                setup.listener().onFollowUpsPublished(queue, type, followUps);
            }
            if (join) {
                setup.listener().onJoinPublished(queue, type);
            }
        } catch (RuntimeException e) {
            log.warn("worker listener failed: {}", e.toString());
        }
    }
}
