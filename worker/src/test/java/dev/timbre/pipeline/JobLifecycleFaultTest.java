package dev.timbre.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.ecs.EcsWorker;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.job.TransientJobException;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.reconcile.DeadLetterReconciler;
import dev.timbre.testing.JobInvariant;
import dev.timbre.tone.Extraction;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.MDC;

/**
 * Faults at the edges of the job lifecycle, end to end: real messages in ElasticMQ (jobs queue with a redrive policy
 * to its DLQ, maxReceiveCount 3, 1 s visibility), the real ECS poll loop and pipeline, Postgres, S3Proxy and the
 * Qdrant double. Each test ends by checking the job lifecycle invariant ({@link JobInvariant}) at rest, then runs
 * the operator path ({@link DeadLetterReconciler}, {@code ./timbre reconcile}) where the DLQ holds open jobs, and
 * checks that every job is finished and no point outlives a job that is not COMPLETED.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobLifecycleFaultTest {

    private static final int MAX_RECEIVES = 3;
    private static final Duration VISIBILITY = Duration.ofSeconds(1);
    /** Longer than every receive a message has: 2 × maxReceiveCount × visibility timeout. */
    private static final Duration OUTAGE = VISIBILITY.multipliedBy(2L * MAX_RECEIVES);
    private static final Duration BOUND = Duration.ofSeconds(90);

    private PipelineHarness harness;
    private final List<Runnable> stops = new ArrayList<>();

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
    }

    @AfterAll
    void stop() {
        harness.close();
    }

    @AfterEach
    void stopWorkers() {
        harness.db.acceptConnections(true);
        stops.forEach(Runnable::run);
        stops.clear();
    }

    /**
     * The real extractor behind hooks: by audio (a fault for one input) or by the SQS message being processed (to
     * tell two deliveries of one job apart). A hook runs before the extraction and may block or throw.
     */
    private static final class HookedEmbedder implements Embedder {
        private final Embedder real = new ToneColorEmbedder(PipelineHarness.extractor());
        private final Map<Integer, Runnable> byAudio = new ConcurrentHashMap<>();
        private final Map<String, Runnable> byMessage = new ConcurrentHashMap<>();

        HookedEmbedder onAudio(byte[] audio, Runnable hook) {
            byAudio.put(java.util.Arrays.hashCode(audio), hook);
            return this;
        }

        HookedEmbedder onMessage(String messageId, Runnable hook) {
            byMessage.put(messageId, hook);
            return this;
        }

        @Override
        public Extraction extract(byte[] encodedAudio, dev.timbre.tone.SeMode mode) {
            Runnable hook = byAudio.get(java.util.Arrays.hashCode(encodedAudio));
            String messageId = MDC.get("message_id"); // set by BatchProcessor for the message being processed
            Runnable perMessage = messageId == null ? null : byMessage.get(messageId);
            if (hook != null) {
                hook.run();
            }
            if (perMessage != null) {
                perMessage.run();
            }
            return real.extract(encodedAudio, mode);
        }

        @Override
        public String modelId() {
            return real.modelId();
        }
    }

    private EmbeddedSqs.QueuePair queues(String name, int maxReceives) {
        return harness.sqs.createQueueWithDlq(name + "-" + UUID.randomUUID().toString().substring(0, 8), maxReceives,
                VISIBILITY);
    }

    private BatchProcessor batches(WorkerPool pool, Embedder embedder, JobStore jobs, int maxReceives) {
        JobProcessor processor = new JobProcessor(jobs, harness.audio, harness.store, embedder, dev.timbre.tone.SeMode.EXTRACT_SE, maxReceives,
                harness.metrics, Clock.systemUTC());
        return new BatchProcessor(pool, new JobMessageParser(), processor,
                new DeadLetterQueue(harness.sqsClient, harness.dlqUrl), harness.metrics, Clock.systemUTC());
    }

    /** The ECS poll loop on its own thread; stopped after the test (or earlier by the returned action). */
    private Runnable startWorker(String queueUrl, BatchProcessor batches, Duration maxBatchTime) {
        EcsWorker worker = new EcsWorker(harness.sqsClient, queueUrl, batches, harness.metrics,
                new EcsWorker.Settings(10, Duration.ofSeconds(1), VISIBILITY, Duration.ofMillis(400), maxBatchTime),
                Clock.systemUTC());
        Thread loop = new Thread(worker, "fault-test-ecs-loop");
        loop.setDaemon(true);
        loop.start();
        Runnable stop = () -> {
            worker.shutdown(Duration.ofSeconds(10));
            try {
                loop.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        stops.add(stop);
        return stop;
    }

    /** Two ECS workers of two threads each on one queue: two deliveries of a job run at once wherever they land. */
    private Runnable startTwoWorkers(EmbeddedSqs.QueuePair q, Embedder embedder) {
        Runnable first = startWorker(q.queueUrl(), batches(harness.pool(2), embedder, harness.jobs, MAX_RECEIVES),
                Duration.ofSeconds(30));
        Runnable second = startWorker(q.queueUrl(), batches(harness.pool(2), embedder, harness.jobs, MAX_RECEIVES),
                Duration.ofSeconds(30));
        return () -> {
            first.run();
            second.run();
        };
    }

    private String send(String queueUrl, UUID job, String voice) {
        return harness.sqsClient.sendMessage(b -> b.queueUrl(queueUrl).messageBody(PipelineHarness.body(job, voice)))
                .messageId();
    }

    private JobInvariant.State state(EmbeddedSqs.QueuePair q, Set<UUID> jobs) {
        return JobInvariant.read(harness.db.dataSource(), harness.sqsClient, q.queueUrl(), q.dlqUrl(),
                harness.qdrant.pointIds(PipelineHarness.COLLECTION), Duration.ofSeconds(15)).only(jobs);
    }

    private static void assertInvariant(JobInvariant.State s) {
        assertEquals(List.of(), JobInvariant.violations(s), "the job lifecycle invariant");
    }

    private static void assertFinished(JobInvariant.State s) {
        assertEquals(List.of(), JobInvariant.finished(s), "every job finished, no point of an unfinished job");
    }

    private DeadLetterReconciler reconciler(EmbeddedSqs.QueuePair q) {
        return new DeadLetterReconciler(harness.sqsClient, q.dlqUrl(), Optional.of(q.queueUrl()), harness.jobs,
                harness.store, new JobMessageParser(), Duration.ofSeconds(30));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long until = System.nanoTime() + BOUND.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not within " + BOUND + ": " + what);
            }
            Thread.sleep(100); // polling rows and queue depths: there is no event to wait on
        }
    }

    @Test
    void aDatabaseOutageOfTwiceMaxReceivesTimesTheVisibilityTimeoutLosesNoJob() throws Exception {
        // given: six jobs, and a job store whose pool gives up on a connection after 250 ms (as the production pool
        // does after 5 s: a transient failure)
        EmbeddedSqs.QueuePair q = queues("outage", MAX_RECEIVES);
        Set<UUID> jobs = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            jobs.add(harness.submit("voice-outage", PipelineHarness.voiceWav(500 + i, 1.0)));
        }
        BatchProcessor batches = batches(harness.pool(2), new ToneColorEmbedder(PipelineHarness.extractor()),
                new PostgresJobStore(harness.db.fastFailingDataSource()), MAX_RECEIVES);

        // when: the database is down for 2 × maxReceiveCount × visibility timeout while the messages arrive and the
        // worker receives each of them every time it reappears
        harness.db.acceptConnections(false);
        jobs.forEach(job -> send(q.queueUrl(), job, "voice-outage"));
        startWorker(q.queueUrl(), batches, Duration.ofSeconds(30));
        Thread.sleep(OUTAGE.toMillis());
        harness.db.acceptConnections(true);
        await(() -> JobInvariant.depth(harness.sqsClient, q.queueUrl()) == 0, "every receive spent");

        // then: no job is lost: each row is still open with its message in the DLQ (acknowledging the last receive,
        // as before, deleted the messages and left the rows PENDING with nothing to finish them)
        JobInvariant.State during = state(q, jobs);
        assertInvariant(during);
        assertEquals(jobs, during.inDlq(), "every message in the DLQ");
        assertEquals(6, during.count(JobStatus.PENDING));

        // and the operator path finishes them: requeued from the DLQ, they run again and complete
        List<DeadLetterReconciler.Result> results = reconciler(q).run(DeadLetterReconciler.Mode.REQUEUE, r -> { });
        assertEquals(6, results.size());
        assertTrue(results.stream().allMatch(r -> r.action() == DeadLetterReconciler.Action.REQUEUED), results::toString);
        await(() -> jobs.stream().allMatch(j -> harness.job(j).status() == JobStatus.COMPLETED), "all completed");
        JobInvariant.State after = state(q, jobs);
        assertInvariant(after);
        assertFinished(after);
        assertTrue(after.inDlq().isEmpty() && after.inQueue().isEmpty());
    }

    @Test
    void aJobDeletedMidFlightEndsFailedWithoutAPointAndOneDeletedBeforeItsTurnToo() throws Exception {
        // given: two good jobs, one deleted by its owner while it is being extracted, one deleted before it starts
        EmbeddedSqs.QueuePair q = queues("deleted", MAX_RECEIVES);
        byte[] deletedAudio = PipelineHarness.voiceWav(520, 1.0);
        UUID midFlight = harness.submit("voice-del", deletedAudio);
        UUID before = harness.submit("voice-del", PipelineHarness.voiceWav(521, 1.0));
        List<UUID> good = List.of(harness.submit("voice-del", PipelineHarness.voiceWav(522, 1.0)),
                harness.submit("voice-del", PipelineHarness.voiceWav(523, 1.0)));
        Set<UUID> jobs = new HashSet<>(good);
        jobs.add(midFlight);
        jobs.add(before);
        HookedEmbedder embedder = new HookedEmbedder().onAudio(deletedAudio, () -> harness.db.execute(
                "UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + midFlight + "'"));
        harness.db.execute("UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + before + "'");

        // when
        jobs.forEach(job -> send(q.queueUrl(), job, "voice-del"));
        Runnable stop = startWorker(q.queueUrl(), batches(harness.pool(2), embedder, harness.jobs, MAX_RECEIVES),
                Duration.ofSeconds(30));
        await(() -> JobInvariant.depth(harness.sqsClient, q.queueUrl()) == 0, "the queue drained");
        stop.run();

        // then
        JobInvariant.State s = state(q, jobs);
        assertInvariant(s);
        assertFinished(s);
        for (UUID deleted : List.of(midFlight, before)) {
            JobRecord row = harness.job(deleted);
            assertEquals(JobStatus.FAILED, row.status());
            assertEquals("job " + deleted + " does not exist or was deleted", row.error());
            assertFalse(s.points().contains(deleted), "no point outlives a deleted job");
        }
        good.forEach(job -> assertEquals(JobStatus.COMPLETED, harness.job(job).status()));
    }

    @Test
    void twoDeliveriesRacingWhereOneGivesUpLeaveTheJobFailedWithoutAPoint() throws Exception {
        // given: two copies of one job's message (the bridge forwards at least once); copy A is on its last receive
        // (received twice before), copy B on its first. Both are taken up at once; A's extraction fails (a fault of
        // a dependency) after B has started, so A gives the job up; B then writes the point and finds the row FAILED
        EmbeddedSqs.QueuePair q = queues("race", MAX_RECEIVES);
        UUID job = harness.submit("voice-race", PipelineHarness.voiceWav(530, 1.0));
        String copyA = send(q.queueUrl(), job, "voice-race");
        for (int i = 0; i < MAX_RECEIVES - 1; i++) {
            var got = harness.sqsClient.receiveMessage(b -> b.queueUrl(q.queueUrl()).maxNumberOfMessages(1)
                    .waitTimeSeconds(1)).messages();
            assertEquals(copyA, got.get(0).messageId());
            harness.sqsClient.changeMessageVisibility(b -> b.queueUrl(q.queueUrl())
                    .receiptHandle(got.get(0).receiptHandle()).visibilityTimeout(0));
        }
        String copyB = send(q.queueUrl(), job, "voice-race");
        CountDownLatch bStarted = new CountDownLatch(1);
        HookedEmbedder embedder = new HookedEmbedder()
                .onMessage(copyA, () -> {
                    awaitLatch(bStarted);
                    throw new TransientJobException("injected: S3 unavailable", null);
                })
                .onMessage(copyB, () -> {
                    bStarted.countDown();
                    awaitQuietly(() -> harness.job(job).status() == JobStatus.FAILED);
                });

        // when: two workers poll the queue (whichever receives which copy, the two run at once)
        Runnable stop = startTwoWorkers(q, embedder);
        await(() -> JobInvariant.depth(harness.sqsClient, q.queueUrl()) == 0
                && harness.job(job).status() == JobStatus.FAILED, "both copies handled");
        stop.run();

        // then: the give-up stands and the point B wrote is gone (B acknowledged it as a duplicate before, and the
        // point of a FAILED job stayed for ever)
        JobInvariant.State s = state(q, Set.of(job));
        assertInvariant(s);
        assertFinished(s);
        assertTrue(harness.job(job).error().startsWith("gave up after 3 attempts: injected: S3 unavailable"),
                harness.job(job).error());
    }

    @Test
    void twoDeliveriesRacingToCompleteLeaveOnePoint() throws Exception {
        EmbeddedSqs.QueuePair q = queues("race-ok", MAX_RECEIVES);
        UUID job = harness.submit("voice-race", PipelineHarness.voiceWav(531, 1.0));
        String copyA = send(q.queueUrl(), job, "voice-race");
        String copyB = send(q.queueUrl(), job, "voice-race");
        CountDownLatch both = new CountDownLatch(2);
        Runnable meet = () -> {
            both.countDown();
            awaitLatch(both); // both deliveries extract at the same time
        };
        HookedEmbedder embedder = new HookedEmbedder().onMessage(copyA, meet).onMessage(copyB, meet);

        Runnable stop = startTwoWorkers(q, embedder);
        await(() -> JobInvariant.depth(harness.sqsClient, q.queueUrl()) == 0
                && harness.job(job).status() == JobStatus.COMPLETED, "completed");
        stop.run();

        JobInvariant.State s = state(q, Set.of(job));
        assertInvariant(s);
        assertFinished(s);
        assertEquals(2, harness.job(job).attempts(), "both deliveries took the job up");
        assertEquals(0L, both.getCount());
    }

    @Test
    void anInputThatExhaustsMemoryAmongGoodOnesGivesUpAloneAndTheOthersComplete() throws Exception {
        EmbeddedSqs.QueuePair q = queues("oom", MAX_RECEIVES);
        byte[] bomb = PipelineHarness.voiceWav(540, 1.0);
        UUID bad = harness.submit("voice-oom", bomb);
        Set<UUID> jobs = new HashSet<>(Set.of(bad));
        for (int i = 0; i < 5; i++) {
            jobs.add(harness.submit("voice-oom", PipelineHarness.voiceWav(541 + i, 1.0)));
        }
        HookedEmbedder embedder = new HookedEmbedder().onAudio(bomb, () -> {
            long[] hog = new long[Integer.MAX_VALUE]; // a real OutOfMemoryError from the VM, nothing allocated
            throw new AssertionError("allocated " + hog.length);
        });

        jobs.forEach(job -> send(q.queueUrl(), job, "voice-oom"));
        Runnable stop = startWorker(q.queueUrl(), batches(harness.pool(2), embedder, harness.jobs, MAX_RECEIVES),
                Duration.ofSeconds(30));
        await(() -> JobInvariant.depth(harness.sqsClient, q.queueUrl()) == 0, "the queue drained");
        stop.run();

        JobInvariant.State s = state(q, jobs);
        assertInvariant(s);
        assertFinished(s);
        assertEquals(5, s.count(JobStatus.COMPLETED));
        JobRecord row = harness.job(bad);
        assertEquals(JobStatus.FAILED, row.status());
        assertTrue(row.error().startsWith("gave up after 3 attempts: internal error: OutOfMemoryError"), row.error());
        assertTrue(s.inDlq().isEmpty(), "given up, not dead-lettered");
    }

    @Test
    void aStartedJobCutOffOnItsLastReceiveIsFinishedByReconcileEvenIfItCompletesLater() throws Exception {
        // given: a queue whose first receive is the last (maxReceiveCount 1), a 1 s batch deadline, and a job that
        // hangs after it started (its container frozen), next to a good one
        EmbeddedSqs.QueuePair q = queues("frozen", 1);
        byte[] frozenAudio = PipelineHarness.voiceWav(550, 1.0);
        UUID frozen = harness.submit("voice-frozen", frozenAudio);
        UUID good = harness.submit("voice-frozen", PipelineHarness.voiceWav(551, 1.0));
        Set<UUID> jobs = Set.of(frozen, good);
        CountDownLatch thaw = new CountDownLatch(1);
        WorkerPool pool = harness.pool(2);
        HookedEmbedder embedder = new HookedEmbedder().onAudio(frozenAudio, () -> awaitLatch(thaw));

        // when: the deadline passes while it hangs; its message goes to the DLQ with the row PROCESSING
        jobs.forEach(job -> send(q.queueUrl(), job, "voice-frozen"));
        Runnable stop = startWorker(q.queueUrl(), batches(pool, embedder, harness.jobs, 1), Duration.ofSeconds(1));
        await(() -> JobInvariant.depth(harness.sqsClient, q.queueUrl()) == 0
                && JobInvariant.depth(harness.sqsClient, q.dlqUrl()) == 1, "the frozen job's message dead-lettered");
        stop.run();

        // then: the invariant holds (open row, message in the DLQ) and the operator command finishes the row
        JobInvariant.State dead = state(q, jobs);
        assertInvariant(dead);
        assertEquals(JobStatus.PROCESSING, harness.job(frozen).status());
        assertEquals(Set.of(frozen), dead.inDlq());
        List<DeadLetterReconciler.Result> results = reconciler(q).run(DeadLetterReconciler.Mode.FAIL, r -> { });
        assertEquals(List.of(DeadLetterReconciler.Action.FAILED), results.stream().map(DeadLetterReconciler.Result::action)
                .toList());
        JobRecord failed = harness.job(frozen);
        assertEquals(JobStatus.FAILED, failed.status());
        assertTrue(failed.error().startsWith("abandoned after its message reached the DLQ"), failed.error());
        assertFinished(state(q, jobs));

        // and when the frozen job resumes and completes after all, it finds the row FAILED and removes its point
        thaw.countDown();
        await(() -> pool.active() == 0 && pool.queued() == 0, "the resumed job ended");
        JobInvariant.State after = state(q, jobs);
        assertInvariant(after);
        assertFinished(after);
        assertEquals(JobStatus.FAILED, harness.job(frozen).status());
        assertEquals(JobStatus.COMPLETED, harness.job(good).status());
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("latch never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void awaitQuietly(BooleanSupplier condition) {
        try {
            await(condition, "hook condition");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
