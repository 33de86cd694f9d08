package dev.hopper.publisher;

import static dev.hopper.publisher.BrokerFixture.config;
import static dev.hopper.publisher.BrokerFixture.declareQueue;
import static dev.hopper.publisher.BrokerFixture.drainExactly;
import static dev.hopper.publisher.BrokerFixture.uniqueIds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Delivery;
import dev.hopper.coordination.RevisionStore;
import dev.hopper.coordination.StoreUnavailableException;
import dev.hopper.topology.EnvelopeCodec;
import dev.hopper.topology.FollowUpIds;
import dev.hopper.topology.Headers;
import dev.hopper.topology.Lineage;
import dev.hopper.topology.QueueNames;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestQueues.class)
class TaskPublisherIT {
    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05.678Z");
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void tenThousandAsyncPublishesAreAllConfirmedAndInTheQueueOnceWithEveryHeader(TestBroker broker,
            TestQueues queues) throws Exception {
        BrokerFixture.MapRevisions revisions = new BrokerFixture.MapRevisions();
        revisions.revisions.put("repo:1", 41L);
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "tenk"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn)
                        .clock(Clock.fixed(NOW, ZoneOffset.UTC)).revisionStore(revisions).build()) {
            String queue = declareQueue(queues, conn, "tenk");
            int n = 10_000;
            List<Task> tasks = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Task.Builder b = publisher.newTask().queue(queue).type("resize").payload(Map.of("i", i));
                if (i % 3 == 1) {
                    b.key("repo:1"); // stamped with the store's revision 41
                } else if (i % 3 == 2) {
                    b.key("repo:" + i).revision((long) i); // explicit revision wins
                }
                tasks.add(b.build());
            }
            List<CompletableFuture<PublishReceipt>> futures = new ArrayList<>(n);
            for (Task t : tasks) {
                futures.add(publisher.publishAsync(t));
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get();

            for (int i = 0; i < n; i++) {
                PublishReceipt r = futures.get(i).getNow(null);
                assertThat(r.messageId()).isEqualTo(tasks.get(i).messageId());
                assertThat(r.queue()).isEqualTo(queue);
                assertThat(r.confirmedAt()).isEqualTo(NOW);
                assertThat(r.revision()).isEqualTo(i % 3 == 0 ? null : i % 3 == 1 ? 41L : (long) i);
            }
            assertThat(publisher.inFlight()).isZero();

            List<Delivery> got = drainExactly(conn, queue, n);
            Map<String, Integer> indexById = new HashMap<>();
            for (int i = 0; i < n; i++) {
                indexById.put(tasks.get(i).messageId(), i);
            }
            assertThat(uniqueIds(got)).containsExactlyInAnyOrderElementsOf(indexById.keySet());
            for (Delivery d : got.subList(0, 300)) {
                int i = indexById.get(d.getProperties().getMessageId());
                assertWireForm(d, queue, i);
            }
        }
    }

    @Test
    void followUpsCarryTheirParentAndJoinHeadersAndDecodeBack(TestBroker broker, TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "lineage"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).build()) {
            String queue = declareQueue(queues, conn, "lineage");
            Task child = publisher.newTask().queue(queue).type("part").payload(Map.of("i", 0)).build()
                    .asFollowUp(FollowUpIds.of("parent-1", 0), Lineage.childOf("parent-1"));
            Task join = publisher.newTask().queue(queue).type("merge").payload(Map.of()).build()
                    .asFollowUp(FollowUpIds.of("parent-1", 1), Lineage.joinOf("parent-1"));
            publisher.publishAll(List.of(child, join));

            List<Delivery> got = drainExactly(conn, queue, 2);
            Map<String, Lineage> lineageById = new HashMap<>();
            for (Delivery d : got) {
                EnvelopeCodec.Valid v = (EnvelopeCodec.Valid) new EnvelopeCodec(1024).decode(d.getProperties(),
                        d.getBody());
                lineageById.put(v.envelope().messageId(), v.envelope().lineage());
            }
            assertThat(lineageById).containsOnly(
                    Map.entry(FollowUpIds.of("parent-1", 0), Lineage.childOf("parent-1")),
                    Map.entry(FollowUpIds.of("parent-1", 1), Lineage.joinOf("parent-1")));
        }
    }

    private void assertWireForm(Delivery d, String queue, int i) throws Exception {
        AMQP.BasicProperties p = d.getProperties();
        assertThat(d.getEnvelope().getExchange()).isEqualTo(QueueNames.TASKS_EXCHANGE);
        assertThat(d.getEnvelope().getRoutingKey()).isEqualTo(queue);
        assertThat(p.getDeliveryMode()).isEqualTo(2);
        assertThat(p.getContentType()).isEqualTo("application/json");
        assertThat(p.getType()).isEqualTo("resize");
        assertThat(p.getAppId()).isEqualTo("hopper");
        assertThat(p.getTimestamp()).isEqualTo(Date.from(Instant.parse("2026-01-02T03:04:05Z")));
        Map<String, Object> h = p.getHeaders();
        assertThat(h.get(Headers.PUBLISHED_AT)).hasToString("2026-01-02T03:04:05.678Z");
        assertThat(h.get(Headers.ATTEMPT)).isEqualTo(0);
        if (i % 3 == 0) {
            assertThat(h).doesNotContainKeys(Headers.KEY, Headers.REVISION);
        } else if (i % 3 == 1) {
            assertThat(h.get(Headers.KEY)).hasToString("repo:1");
            assertThat(h.get(Headers.REVISION)).isEqualTo(41L);
        } else {
            assertThat(h.get(Headers.KEY)).hasToString("repo:" + i);
            assertThat(h.get(Headers.REVISION)).isEqualTo((long) i);
        }
        assertThat(json.readTree(d.getBody())).isEqualTo(json.readTree("{\"i\":" + i + "}"));
        // And the consumer's codec reads it back as the same task.
        var decoded = new EnvelopeCodec(1 << 20).decode(p, d.getBody());
        assertThat(decoded).isInstanceOf(EnvelopeCodec.Valid.class);
        assertThat(((EnvelopeCodec.Valid) decoded).envelope().attempt()).isZero();
    }

    @Test
    void publishingToAQueueThatDoesNotExistFailsAsUnroutableAndThePublisherCarriesOn(TestBroker broker,
            TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "unroutable"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).build()) {
            String queue = declareQueue(queues, conn, "real"); // also makes sure hopper.tasks exists
            String missing = queues.name("missing");

            ExecutionException e = catchThrowableOfType(ExecutionException.class, () -> publisher.publishAsync(
                    publisher.newTask().queue(missing).type("t").payload(1).build()).get());
            PublishException pe = (PublishException) e.getCause();
            assertThat(pe.reason()).isEqualTo(PublishException.Reason.UNROUTABLE);
            assertThat(pe.mayHaveArrived()).isFalse();
            assertThat(pe).hasMessageContaining(missing).hasMessageContaining("NO_ROUTE");

            assertThatThrownBy(() -> publisher.publish(publisher.newTask().queue(missing).type("t").payload(2).build()))
                    .isInstanceOfSatisfying(PublishException.class,
                            x -> assertThat(x.reason()).isEqualTo(PublishException.Reason.UNROUTABLE));

            PublishReceipt ok = publisher.publish(publisher.newTask().queue(queue).type("t").payload(3).build());
            assertThat(uniqueIds(drainExactly(conn, queue, 1))).containsExactly(ok.messageId());
            assertThat(publisher.inFlight()).isZero();
        }
    }

    @Test
    void brokerClosingTheConnectionFailsUnconfirmedPublishesOnlyAndThePublisherRecovers(TestBroker broker,
            TestQueues queues) throws Exception {
        BrokerConfig cfg = config(broker, "killed");
        try (BrokerConnection admin = BrokerConnection.open(config(broker, "killed-admin"));
                TaskPublisher publisher = TaskPublisher.builder().broker(cfg).windowSize(200).build()) {
            String queue = declareQueue(queues, admin, "killed");
            String pid = BrokerFixture.requirePid(broker, cfg.connectionName()); // before the stream: rabbitmqctl is slow
            List<Task> sent = new ArrayList<>();
            List<CompletableFuture<PublishReceipt>> futures = new ArrayList<>();
            AtomicInteger confirmed = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            AtomicInteger confirmedAfterFailure = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            Thread producer = new Thread(() -> {
                int i = 0;
                while (!stop.get()) {
                    Task t = publisher.newTask().queue(queue).type("stream").payload(Map.of("i", i++)).build();
                    CompletableFuture<PublishReceipt> f = publisher.publishAsync(t);
                    f.whenComplete((r, x) -> {
                        if (x == null) {
                            confirmed.incrementAndGet();
                            if (failed.get() > 0) {
                                confirmedAfterFailure.incrementAndGet();
                            }
                        } else {
                            failed.incrementAndGet();
                        }
                    });
                    synchronized (sent) {
                        sent.add(t);
                        futures.add(f);
                    }
                    // A steady stream rather than a flood (the queue is read back at the end), paced harder while
                    // the connection is down instead of spinning through failures.
                    long pause = f.isCompletedExceptionally() ? 5 : i % 2 == 0 ? 1 : 0;
                    if (pause > 0) {
                        try {
                            Thread.sleep(pause);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            }, "test-producer");
            producer.start();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> confirmed.get() >= 1000);
                BrokerFixture.forceClose(broker, pid);
                await().atMost(Duration.ofSeconds(60)).until(() -> failed.get() > 0);
                await().atMost(Duration.ofSeconds(60)).until(() -> confirmedAfterFailure.get() >= 500);
            } finally {
                stop.set(true);
                producer.join();
            }
            List<CompletableFuture<PublishReceipt>> all;
            synchronized (sent) {
                all = List.copyOf(futures);
            }
            // No future is left hanging: each settles (the confirm timeout bounds the wait).
            await().atMost(Duration.ofSeconds(60)).until(() -> all.stream().allMatch(CompletableFuture::isDone));

            Set<String> ok = new HashSet<>();
            Set<String> notOk = new HashSet<>();
            for (int i = 0; i < all.size(); i++) {
                CompletableFuture<PublishReceipt> f = all.get(i);
                if (f.isCompletedExceptionally()) {
                    Throwable x = catchThrowableOfType(ExecutionException.class, f::get).getCause();
                    assertThat(x).isInstanceOf(PublishException.class);
                    assertThat(((PublishException) x).reason()).isEqualTo(PublishException.Reason.CONNECTION_LOST);
                    assertThat(((PublishException) x).mayHaveArrived()).isTrue();
                    notOk.add(sent.get(i).messageId());
                } else {
                    ok.add(f.get().messageId());
                }
            }
            assertThat(notOk).isNotEmpty();
            assertThat(ok).hasSizeGreaterThanOrEqualTo(1500);
            System.out.printf("forced close: %d confirmed, %d failed%n", ok.size(), notOk.size());
            assertThat(publisher.inFlight()).isZero();
            assertThat(publisher.windowRoom()).isEqualTo(200); // every permit back, none twice

            // And after all that, a plain publish works.
            PublishReceipt last = publisher.publish(publisher.newTask().queue(queue).type("stream").payload("end")
                    .build());
            ok.add(last.messageId());

            long depth = BrokerFixture.depth(admin, queue);
            List<String> inQueue = uniqueIds(drainExactly(admin, queue, (int) depth));
            // Every confirmed message is there; anything else there is a failed one that made it anyway.
            assertThat(inQueue).containsAll(ok);
            assertThat(notOk).containsAll(inQueue.stream().filter(id -> !ok.contains(id)).toList());
        }
    }

    @Test
    void severalThreadsPublishingThroughOnePublisherAreAllConfirmedAndCountedExactly(TestBroker broker,
            TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "threads"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).windowSize(300).build()) {
            String queue = declareQueue(queues, conn, "threads");
            int threads = 6;
            int perThread = 700;
            List<Thread> workers = new ArrayList<>();
            List<List<Future<PublishReceipt>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Future<PublishReceipt>> mine = new ArrayList<>();
                results.add(mine);
                boolean blocking = t % 2 == 0; // half the threads use publish(), half publishAsync()
                int tn = t;
                workers.add(new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        Task task = publisher.newTask().queue(queue).type("t").payload(tn + "-" + i).build();
                        if (blocking && i % 10 == 0) {
                            mine.add(CompletableFuture.completedFuture(publisher.publish(task)));
                        } else {
                            mine.add(publisher.publishAsync(task));
                        }
                    }
                }, "test-publisher-" + t));
            }
            workers.forEach(Thread::start);
            for (Thread w : workers) {
                w.join();
            }
            Set<String> ids = new HashSet<>();
            for (List<Future<PublishReceipt>> mine : results) {
                assertThat(mine).hasSize(perThread);
                for (Future<PublishReceipt> f : mine) {
                    ids.add(f.get().messageId());
                }
            }
            assertThat(ids).hasSize(threads * perThread);
            assertThat(publisher.windowRoom()).isEqualTo(300);
            assertThat(uniqueIds(drainExactly(conn, queue, threads * perThread)))
                    .containsExactlyInAnyOrderElementsOf(ids);
            assertThat(publisher.inFlight()).isZero();
        }
    }

    @Test
    void publishAllReturnsReceiptsInOrderAndNamesExactlyTheTaskThatFailed(TestBroker broker, TestQueues queues)
            throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "batch"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).build()) {
            String queue = declareQueue(queues, conn, "batch");
            List<Task> batch = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                batch.add(publisher.newTask().queue(queue).type("b").payload(i).build());
            }
            List<PublishReceipt> receipts = publisher.publishAll(batch);
            assertThat(receipts).extracting(PublishReceipt::messageId)
                    .containsExactlyElementsOf(batch.stream().map(Task::messageId).toList());
            assertThat(uniqueIds(drainExactly(conn, queue, 1000)))
                    .containsExactlyInAnyOrderElementsOf(batch.stream().map(Task::messageId).toList());

            List<Task> mixed = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                String q = i == 37 ? queues.name("nowhere") : queue;
                mixed.add(publisher.newTask().queue(q).type("b").payload(i).build());
            }
            BatchPublishException e = catchThrowableOfType(BatchPublishException.class,
                    () -> publisher.publishAll(mixed));
            assertThat(e.reason()).isEqualTo(PublishException.Reason.UNROUTABLE);
            assertThat(e).hasMessageContaining("1 of 100").hasMessageContaining("index 37");
            BatchResult r = e.result();
            assertThat(r.allConfirmed()).isFalse();
            assertThat(r.failures()).hasSize(1);
            assertThat(r.failures().get(0).index()).isEqualTo(37);
            assertThat(r.failures().get(0).task()).isSameAs(mixed.get(37));
            assertThat(r.failures().get(0).error().reason()).isEqualTo(PublishException.Reason.UNROUTABLE);
            List<String> expected = new ArrayList<>(mixed.stream().map(Task::messageId).toList());
            expected.remove(37);
            assertThat(r.receipts()).extracting(PublishReceipt::messageId).containsExactlyElementsOf(expected);
            assertThat(uniqueIds(drainExactly(conn, queue, 99))).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    @Test
    void aFullQueueWithRejectPublishIsNackedNotLost(TestBroker broker, TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "nack"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).build()) {
            declareQueue(queues, conn, "exchange"); // makes sure hopper.tasks exists
            String queue = queues.name("tiny");
            var ch = conn.amqp().createChannel();
            ch.queueDeclare(queue, false, false, false, Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
            ch.queueBind(queue, QueueNames.TASKS_EXCHANGE, queue);
            ch.close();

            publisher.publish(publisher.newTask().queue(queue).type("t").payload(1).build());
            assertThatThrownBy(() -> publisher.publish(publisher.newTask().queue(queue).type("t").payload(2).build()))
                    .isInstanceOfSatisfying(PublishException.class, x -> {
                        assertThat(x.reason()).isEqualTo(PublishException.Reason.NACKED);
                        assertThat(x.mayHaveArrived()).isFalse();
                    });
            assertThat(BrokerFixture.depth(conn, queue)).isEqualTo(1);
        }
    }

    @Test
    void ownedConnectionIsClosedWithThePublisherAndLaterPublishesFailAsClosed(TestBroker broker, TestQueues queues)
            throws Exception {
        BrokerConfig cfg = config(broker, "owned");
        TaskPublisher publisher = TaskPublisher.builder().broker(cfg).build();
        assertThat(BrokerFixture.connectionPid(broker, cfg.connectionName())).isNotNull();
        publisher.close();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> BrokerFixture.connectionPid(broker, cfg.connectionName()) == null);
        var f = publisher.publishAsync(Task.builder().queue(queues.name("x")).type("t").payload(1).build());
        PublishException e = (PublishException) catchThrowableOfType(ExecutionException.class, f::get).getCause();
        assertThat(e.reason()).isEqualTo(PublishException.Reason.CLOSED);

        try (BrokerConnection conn = BrokerConnection.open(config(broker, "shared"))) {
            TaskPublisher borrowed = TaskPublisher.builder().connection(conn).build();
            borrowed.close();
            assertThat(conn.isOpen()).isTrue();
        }
    }

    @Test
    void bodyIsTheUsersJsonOnly(TestBroker broker, TestQueues queues) throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "body"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).build()) {
            String queue = declareQueue(queues, conn, "body");
            publisher.publish(publisher.newTask().queue(queue).type("t").jsonPayload("{\"x\": [1, \"é\"]}").build());
            Delivery d = drainExactly(conn, queue, 1).get(0);
            assertThat(new String(d.getBody(), StandardCharsets.UTF_8)).isEqualTo("{\"x\": [1, \"é\"]}");
        }
    }

    @Test
    void aFullWindowWithoutWaitRejectsAtOnceAndLosesNothingElse(TestBroker broker, TestQueues queues)
            throws Exception {
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "window"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).windowSize(1)
                        .windowWait(Duration.ZERO).build()) {
            String queue = declareQueue(queues, conn, "window");
            List<Task> tasks = new ArrayList<>();
            List<CompletableFuture<PublishReceipt>> futures = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                Task t = publisher.newTask().queue(queue).type("w").payload(i).build();
                tasks.add(t);
                futures.add(publisher.publishAsync(t));
            }
            List<String> confirmed = new ArrayList<>();
            int rejected = 0;
            for (int i = 0; i < tasks.size(); i++) {
                try {
                    confirmed.add(futures.get(i).get().messageId());
                } catch (ExecutionException e) {
                    PublishException pe = (PublishException) e.getCause();
                    assertThat(pe.reason()).isEqualTo(PublishException.Reason.WINDOW_FULL);
                    assertThat(pe.mayHaveArrived()).isFalse();
                    rejected++;
                }
            }
            // One message may be unconfirmed at a time, and the next publish comes far sooner than a quorum
            // queue's confirm: most are turned away at once, and exactly the confirmed ones are in the queue.
            assertThat(rejected).isPositive();
            assertThat(confirmed).isNotEmpty();
            assertThat(uniqueIds(drainExactly(conn, queue, confirmed.size())))
                    .containsExactlyInAnyOrderElementsOf(confirmed);
        }
    }

    @Test
    void revisionStoreFailureFailsTheFutureAndSendsNothing(TestBroker broker, TestQueues queues) throws Exception {
        RevisionStore down = new RevisionStore() {
            @Override
            public long currentRevision(String key) {
                throw new StoreUnavailableException("redis at 127.0.0.1:1 does not answer");
            }

            @Override
            public long bumpRevision(String key) {
                throw new StoreUnavailableException("redis at 127.0.0.1:1 does not answer");
            }
        };
        try (BrokerConnection conn = BrokerConnection.open(config(broker, "store"));
                TaskPublisher publisher = TaskPublisher.builder().connection(conn).revisionStore(down).build()) {
            String queue = declareQueue(queues, conn, "store");
            var f = publisher.publishAsync(publisher.newTask().queue(queue).type("t").payload(1).key("k").build());
            PublishException e = (PublishException) catchThrowableOfType(ExecutionException.class, f::get).getCause();
            assertThat(e.reason()).isEqualTo(PublishException.Reason.REVISION_UNAVAILABLE);
            assertThat(e.mayHaveArrived()).isFalse();
            assertThat(e).hasCauseInstanceOf(StoreUnavailableException.class).hasMessageContaining("does not answer");
            assertThatThrownBy(() -> publisher.publish(publisher.newTask().queue(queue).type("t").payload(1).key("k")
                    .build())).isInstanceOfSatisfying(PublishException.class,
                            x -> assertThat(x.reason()).isEqualTo(PublishException.Reason.REVISION_UNAVAILABLE));
            // Keyless tasks and tasks with an explicit revision never ask the store.
            publisher.publish(publisher.newTask().queue(queue).type("t").payload(2).build());
            publisher.publish(publisher.newTask().queue(queue).type("t").payload(3).key("k").revision(4L).build());
            assertThat(BrokerFixture.depth(conn, queue)).isEqualTo(2);
        }
    }

    @Test
    void aFailedPublishShowsTheCallersFrameAndKeepsTheConfirmThreadsFailureAsCause(TestBroker broker)
            throws Exception {
        // Issue 16 finding 2: the exception made on the confirm thread was rethrown as is, without the caller.
        try (TaskPublisher publisher = TaskPublisher.builder().broker(config(broker, "frames")).build()) {
            PublishException e = catchThrowableOfType(PublishException.class, () -> publisher.publish(
                    publisher.newTask().queue("no-such-queue-" + System.nanoTime()).type("t").payload(1).build()));
            assertThat(e.reason()).isEqualTo(PublishException.Reason.UNROUTABLE);
            assertThat(e.getStackTrace()).anySatisfy(frame -> assertThat(frame.getMethodName())
                    .isEqualTo("aFailedPublishShowsTheCallersFrameAndKeepsTheConfirmThreadsFailureAsCause"));
            assertThat(e.getCause()).isInstanceOf(PublishException.class).hasMessage(e.getMessage());
        }
    }
}
