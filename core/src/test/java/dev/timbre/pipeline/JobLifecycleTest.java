package dev.timbre.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.tone.Extraction;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The job lifecycle at its edges, one known defect per test (each failed before its fix): what happens on the last
 * receive when the verdict cannot be written, when a job ends in an {@link Error}, and when {@code complete()} is
 * refused because the row was failed or deleted while the job ran. Real Postgres, S3Proxy, ElasticMQ and the Qdrant
 * double; the faults are a database closed to connections, a real {@link OutOfMemoryError} and
 * {@link StackOverflowError} thrown by the VM, and rows changed under a running job.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobLifecycleTest {

    private static final int MAX_RECEIVES = 3;

    private PipelineHarness harness;

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
    }

    @AfterAll
    void stop() {
        harness.close();
    }

    @AfterEach
    void reopenDatabase() {
        harness.db.acceptConnections(true);
    }

    /**
     * The real extractor, except for chosen audio: {@code before} runs first (a fault, or a change to the job's
     * row made as if by a parallel delivery or the job's owner), and may throw.
     */
    private static final class FaultyEmbedder implements Embedder {
        private final Embedder real = new ToneColorEmbedder(PipelineHarness.extractor());
        private final Map<Integer, Runnable> before = new ConcurrentHashMap<>();

        FaultyEmbedder on(byte[] audio, Runnable fault) {
            before.put(java.util.Arrays.hashCode(audio), fault);
            return this;
        }

        @Override
        public Extraction extract(byte[] encodedAudio, dev.timbre.tone.SeMode mode) {
            Runnable fault = before.get(java.util.Arrays.hashCode(encodedAudio));
            if (fault != null) {
                fault.run();
            }
            return real.extract(encodedAudio, mode);
        }

        @Override
        public String modelId() {
            return real.modelId();
        }
    }

    private BatchProcessor batches(Embedder embedder, PostgresJobStore jobs) {
        JobProcessor processor = new JobProcessor(jobs, harness.audio, harness.store, embedder, dev.timbre.tone.SeMode.EXTRACT_SE, MAX_RECEIVES,
                harness.metrics, Clock.systemUTC());
        return new BatchProcessor(harness.pool(2), new JobMessageParser(), processor,
                new DeadLetterQueue(harness.sqsClient, harness.dlqUrl), harness.metrics, Clock.systemUTC());
    }

    private BatchProcessor batches(Embedder embedder) {
        return batches(embedder, new PostgresJobStore(harness.db.dataSource()));
    }

    private static QueueMessage message(UUID job, String voice, int receiveCount) {
        return new QueueMessage("m-" + job, PipelineHarness.body(job, voice), receiveCount, Optional.empty(),
                Optional.empty());
    }

    private static RecordOutcome only(BatchOutcome outcome) {
        assertEquals(1, outcome.outcomes().size());
        return outcome.outcomes().get(0);
    }

    private static Instant later() {
        return Instant.now().plusSeconds(60);
    }

    private boolean hasPoint(UUID job) {
        return harness.qdrant.point(PipelineHarness.COLLECTION, job).isPresent();
    }

    /**
     * An invocation whose remaining time is already inside the margin (its deadline passed on arrival) starts nothing:
     * every record is handed back unstarted, rather than taken up by an idle thread and run while its message is
     * redelivered to another worker.
     */
    @Test
    void aBatchThatArrivesWithNoTimeLeftStartsNothingAndHandsEveryRecordBack() throws InterruptedException {
        byte[] audio = PipelineHarness.voiceWav(7, 1.0);
        UUID job = harness.submit("voice-late", audio);
        CountDownLatch extracted = new CountDownLatch(1);
        BatchProcessor batches = batches(new FaultyEmbedder().on(audio, extracted::countDown));

        RecordOutcome outcome = only(batches.process(List.of(message(job, "voice-late", 1)), false,
                Instant.now().minusMillis(1)));

        assertEquals(Disposition.NOT_FINISHED, outcome.disposition(), outcome.toString());
        assertFalse(outcome.acknowledged(), "handed back for redelivery");
        assertFalse(extracted.await(2, TimeUnit.SECONDS), "no thread took the job up");
        assertEquals(JobStatus.PENDING, harness.job(job).status());
        assertEquals(0, harness.job(job).attempts(), "not even claimed");
    }

    @Nested
    class DatabaseDownOnTheLastReceive {

        @Test
        void theMessageIsReportedForTheDlqInsteadOfAcknowledgedWithTheRowStillOpen() {
            // given: a job on its last receive, and the database closed to connections (every receive burnt by
            // an outage longer than maxReceives × visibility timeout)
            UUID job = harness.submit("voice-outage", PipelineHarness.voiceWav(1, 1.0));
            BatchProcessor batches = batches(new FaultyEmbedder(),
                    new PostgresJobStore(harness.db.fastFailingDataSource()));
            harness.db.acceptConnections(false);

            // when
            RecordOutcome outcome = only(batches.process(List.of(message(job, "voice-outage", MAX_RECEIVES)), false,
                    later()));

            // then: not acknowledged, so SQS moves the message to the DLQ, where the open row can be finished;
            // acknowledging it (GAVE_UP, as before) deleted the message while the row stayed PENDING
            harness.db.acceptConnections(true);
            assertFalse(outcome.acknowledged(), "reported for the DLQ: " + outcome);
            assertEquals(JobStatus.PENDING, harness.job(job).status());
        }

        @Test
        void aJobThatStartedAndThenLostTheDatabaseIsReportedToo() {
            // given: the database goes away while the job runs (after the pick-up, before complete)
            byte[] audio = PipelineHarness.voiceWav(2, 1.0);
            UUID job = harness.submit("voice-outage", audio);
            BatchProcessor batches = batches(new FaultyEmbedder().on(audio, () -> harness.db.acceptConnections(false)),
                    new PostgresJobStore(harness.db.fastFailingDataSource()));

            // when
            RecordOutcome outcome = only(batches.process(List.of(message(job, "voice-outage", MAX_RECEIVES)), false,
                    later()));

            // then
            harness.db.acceptConnections(true);
            assertFalse(outcome.acknowledged(), "reported for the DLQ: " + outcome);
            JobRecord row = harness.job(job);
            assertEquals(JobStatus.PROCESSING, row.status(), "open, and its message goes to the DLQ");
            assertTrue(hasPoint(job), "written before the outage; ./timbre reconcile removes it with the row's verdict");
        }
    }

    @Nested
    class ErrorsInAJob {

        /**
         * A real OutOfMemoryError thrown by the VM, as a decoder trusting a huge header would get it: an array
         * beyond any heap (and beyond the VM's array limit), so nothing is actually allocated and the test JVM is
         * not starved.
         */
        private static void exhaustTheHeap() {
            long[] hog = new long[Integer.MAX_VALUE];
            throw new AssertionError("allocated " + hog.length + " longs");
        }

        @SuppressWarnings("InfiniteRecursion") // on purpose: a real StackOverflowError from the VM
        private static int recurse(int depth) {
            return recurse(depth + 1) + 1;
        }

        @Test
        void anInputThatExhaustsMemoryIsRetriedWhileTheGoodOnesAroundItComplete() {
            // given: three good jobs and one whose extraction runs out of heap, on their first receive
            byte[] bomb = PipelineHarness.voiceWav(10, 1.0);
            UUID bad = harness.submit("voice-oom", bomb);
            List<UUID> good = List.of(harness.submit("voice-oom", PipelineHarness.voiceWav(11, 1.0)),
                    harness.submit("voice-oom", PipelineHarness.voiceWav(12, 1.0)),
                    harness.submit("voice-oom", PipelineHarness.voiceWav(13, 1.0)));
            BatchProcessor batches = batches(new FaultyEmbedder().on(bomb, ErrorsInAJob::exhaustTheHeap));

            // when
            BatchOutcome outcome = batches.process(List.of(message(good.get(0), "voice-oom", 1),
                    message(bad, "voice-oom", 1), message(good.get(1), "voice-oom", 1),
                    message(good.get(2), "voice-oom", 1)), false, later());

            // then: only the bomb is redelivered; its row says why
            assertEquals(List.of("m-" + bad), outcome.failedMessageIds());
            good.forEach(job -> assertEquals(JobStatus.COMPLETED, harness.job(job).status()));
            JobRecord row = harness.job(bad);
            assertEquals(JobStatus.PROCESSING, row.status());
            assertTrue(row.error().startsWith("internal error: OutOfMemoryError"), row.error());
        }

        @Test
        void anInputThatExhaustsMemoryOnItsLastReceiveGivesUp() {
            byte[] bomb = PipelineHarness.voiceWav(14, 1.0);
            UUID bad = harness.submit("voice-oom", bomb);
            BatchProcessor batches = batches(new FaultyEmbedder().on(bomb, ErrorsInAJob::exhaustTheHeap));

            RecordOutcome outcome = only(batches.process(List.of(message(bad, "voice-oom", MAX_RECEIVES)), false,
                    later()));

            assertEquals(Disposition.GAVE_UP, outcome.disposition(), outcome.toString());
            JobRecord row = harness.job(bad);
            assertEquals(JobStatus.FAILED, row.status());
            assertTrue(row.error().startsWith("gave up after 3 attempts: internal error: OutOfMemoryError"),
                    row.error());
            assertFalse(hasPoint(bad));
        }

        @Test
        void aStackOverflowOnTheLastReceiveGivesUp() {
            byte[] deep = PipelineHarness.voiceWav(15, 1.0);
            UUID bad = harness.submit("voice-deep", deep);
            BatchProcessor batches = batches(new FaultyEmbedder().on(deep, () -> recurse(0)));

            RecordOutcome outcome = only(batches.process(List.of(message(bad, "voice-deep", MAX_RECEIVES)), false,
                    later()));

            assertEquals(Disposition.GAVE_UP, outcome.disposition(), outcome.toString());
            assertTrue(harness.job(bad).error().startsWith("gave up after 3 attempts: internal error: "
                    + "StackOverflowError"), harness.job(bad).error());
        }

        @Test
        void anyOtherErrorOnTheLastReceiveStillGivesTheJobUp() {
            // given: an Error the job does not catch (a class that failed to initialise: a broken deployment)
            byte[] audio = PipelineHarness.voiceWav(16, 1.0);
            UUID bad = harness.submit("voice-linkage", audio);
            BatchProcessor batches = batches(new FaultyEmbedder().on(audio, () -> {
                throw new NoClassDefFoundError("dev/timbre/Missing");
            }));

            // when: on its last receive, and on an earlier one
            RecordOutcome last = only(batches.process(List.of(message(bad, "voice-linkage", MAX_RECEIVES)), false,
                    later()));

            // then: given up (FAILED, acknowledged) instead of RETRY with the row PROCESSING, which sent the
            // message to the DLQ and left the row open for ever
            assertEquals(Disposition.GAVE_UP, last.disposition(), last.toString());
            JobRecord row = harness.job(bad);
            assertEquals(JobStatus.FAILED, row.status());
            assertTrue(row.error().contains("NoClassDefFoundError"), row.error());
        }

        @Test
        void anyOtherErrorWithReceivesLeftIsRedelivered() {
            byte[] audio = PipelineHarness.voiceWav(17, 1.0);
            UUID bad = harness.submit("voice-linkage", audio);
            BatchProcessor batches = batches(new FaultyEmbedder().on(audio, () -> {
                throw new NoClassDefFoundError("dev/timbre/Missing");
            }));

            RecordOutcome first = only(batches.process(List.of(message(bad, "voice-linkage", 1)), false, later()));

            assertEquals(Disposition.RETRY, first.disposition());
            assertEquals(JobStatus.PROCESSING, harness.job(bad).status());
        }
    }

    @Nested
    class RowChangedWhileTheJobRan {

        @Test
        void aRowFailedByAParallelDeliveryKeepsItsVerdictAndLosesThePointJustWritten() {
            // given: while this delivery extracts, a parallel delivery of the same job gives up on it
            byte[] audio = PipelineHarness.voiceWav(20, 1.0);
            UUID job = harness.submit("voice-race", audio);
            BatchProcessor batches = batches(new FaultyEmbedder().on(audio,
                    () -> harness.jobs.fail(job, "gave up after 3 attempts: Qdrant unavailable")));

            // when
            RecordOutcome outcome = only(batches.process(List.of(message(job, "voice-race", 2)), false, later()));

            // then: FAILED stands, and no point outlives it (it was written, then acknowledged as a duplicate)
            assertTrue(outcome.acknowledged());
            assertEquals(Disposition.FAILED, outcome.disposition(), outcome.toString());
            assertEquals(JobStatus.FAILED, harness.job(job).status());
            assertFalse(hasPoint(job), "the point of a FAILED job was removed");
        }

        @Test
        void aJobDeletedWhileItRanEndsFailedWithoutAPoint() {
            byte[] audio = PipelineHarness.voiceWav(21, 1.0);
            UUID job = harness.submit("voice-deleted", audio);
            BatchProcessor batches = batches(new FaultyEmbedder().on(audio, () -> harness.db.execute(
                    "UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + job + "'")));

            RecordOutcome outcome = only(batches.process(List.of(message(job, "voice-deleted", 1)), false, later()));

            assertTrue(outcome.acknowledged());
            assertEquals(Disposition.FAILED, outcome.disposition(), outcome.toString());
            JobRecord row = harness.job(job);
            assertEquals(JobStatus.FAILED, row.status(), "a deleted row is closed like the pipeline closes them");
            assertEquals("job " + job + " does not exist or was deleted", row.error());
            assertFalse(hasPoint(job), "no point outlives a deleted job");
        }

        @Test
        void aRowCompletedByAnotherDeliveryIsStillADuplicateWithItsPoint() {
            byte[] audio = PipelineHarness.voiceWav(22, 1.0);
            UUID job = harness.submit("voice-dup", audio);
            BatchProcessor batches = batches(new FaultyEmbedder().on(audio,
                    () -> harness.jobs.complete(job, "{\"message\":\"completed by the other delivery\"}")));

            RecordOutcome outcome = only(batches.process(List.of(message(job, "voice-dup", 1)), false, later()));

            assertEquals(Disposition.DUPLICATE, outcome.disposition());
            assertEquals(JobStatus.COMPLETED, harness.job(job).status());
            assertTrue(hasPoint(job));
        }
    }
}
