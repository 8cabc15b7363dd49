package dev.timbre.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.JobStatus;
import dev.timbre.pipeline.BatchOutcome;
import dev.timbre.pipeline.BatchProcessor;
import dev.timbre.pipeline.Disposition;
import dev.timbre.pipeline.Embedder;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.pipeline.QueueMessage;
import dev.timbre.pipeline.ToneColorEmbedder;
import dev.timbre.testing.JobInvariant;
import dev.timbre.tone.Extraction;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Found by the chaos run: a message that never started before the batch deadline on its last allowed receive was
 * reported unfinished, SQS then moved it to the DLQ, and its job row stayed PROCESSING (or PENDING) for ever. Now
 * the job is given up like a transient failure on the last receive: FAILED "gave up after N attempts", the message
 * acknowledged, the DLQ kept for poison. A message with receives left is still simply redelivered, and one that
 * had started is left to finish on its own.
 */
class LastReceiveDeadlineTest {
    private static final int MAX_RECEIVES = 5;
    private static PipelineHarness harness;

    @BeforeAll
    static void start() {
        harness = PipelineHarness.start();
    }

    /** One worker thread of its own per test, whose jobs sleep 1.5 s (past the deadline) before extracting. */
    private static BatchProcessor slowBatches() {
        Embedder real = new ToneColorEmbedder(PipelineHarness.extractor());
        Embedder slow = new Embedder() {
            @Override
            public Extraction extract(byte[] encodedAudio, dev.timbre.tone.SeMode mode) {
                try {
                    Thread.sleep(1500); // past the batch deadline
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return real.extract(encodedAudio, mode);
            }

            @Override
            public String modelId() {
                return real.modelId();
            }
        };
        return harness.batches(harness.pool(1), slow, MAX_RECEIVES);
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    @Test
    void anUnstartedMessageOnItsLastReceiveGivesItsJobUpInsteadOfLeavingItStuck() {
        // given: one worker thread, two jobs; the first runs past the deadline, the second never starts
        UUID running = harness.submit("voice-deadline", PipelineHarness.voiceWav(1, 1.0));
        UUID unstarted = harness.submit("voice-deadline", PipelineHarness.voiceWav(2, 1.0));
        BatchProcessor batches = slowBatches();

        // when: both are on their last allowed receive
        BatchOutcome outcome = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> batches.process(List.of(
                new QueueMessage("m-running", PipelineHarness.body(running, "voice-deadline"), MAX_RECEIVES,
                        Optional.empty(), Optional.empty()),
                new QueueMessage("m-unstarted", PipelineHarness.body(unstarted, "voice-deadline"), MAX_RECEIVES,
                        Optional.empty(), Optional.empty())), false, Instant.now().plusMillis(400)));

        // then
        assertEquals(Disposition.NOT_FINISHED, outcome.outcomes().get(0).disposition(), "the started one is left to finish");
        assertEquals(Disposition.GAVE_UP, outcome.outcomes().get(1).disposition());
        assertEquals(List.of("m-unstarted"), outcome.acknowledgedMessageIds(), "acknowledged: SQS will not redrive it");
        assertEquals(JobStatus.FAILED, harness.job(unstarted).status());
        assertTrue(harness.job(unstarted).error().startsWith("gave up after 5 attempts: deadline reached"),
                harness.job(unstarted).error());
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            while (harness.job(running).status() != JobStatus.COMPLETED) {
                Thread.sleep(50);
            }
        }, "the started job still completes");
        assertTrue(harness.drainDlq().isEmpty(), "nothing in the DLQ");
        assertInvariant(outcome, Map.of("m-running", running, "m-unstarted", unstarted));
    }

    @Test
    void anUnstartedMessageWithReceivesLeftIsOnlyRedelivered() {
        UUID running = harness.submit("voice-deadline", PipelineHarness.voiceWav(3, 1.0));
        UUID unstarted = harness.submit("voice-deadline", PipelineHarness.voiceWav(4, 1.0));
        BatchProcessor batches = slowBatches();

        BatchOutcome outcome = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> batches.process(List.of(
                new QueueMessage("m-1", PipelineHarness.body(running, "voice-deadline"), 1, Optional.empty(),
                        Optional.empty()),
                new QueueMessage("m-2", PipelineHarness.body(unstarted, "voice-deadline"), MAX_RECEIVES - 1,
                        Optional.empty(), Optional.empty())), false, Instant.now().plusMillis(400)));

        assertEquals(List.of("m-1", "m-2"), outcome.failedMessageIds());
        assertEquals(Disposition.NOT_FINISHED, outcome.outcomes().get(1).disposition());
        assertEquals(JobStatus.PENDING, harness.job(unstarted).status(), "untouched: it will be delivered again");
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            while (harness.job(running).status() != JobStatus.COMPLETED) {
                Thread.sleep(50);
            }
        }, "the started job still completes");
        assertInvariant(outcome, Map.of("m-1", running, "m-2", unstarted));
    }

    /**
     * The job lifecycle invariant after the batch: a message not acknowledged goes back to the queue (or on to the
     * DLQ), so its job may be open; every other job must be finished, and points only exist for COMPLETED jobs.
     */
    private static void assertInvariant(BatchOutcome outcome, Map<String, UUID> jobOfMessage) {
        Set<UUID> stillQueued = outcome.failedMessageIds().stream().map(jobOfMessage::get).collect(Collectors.toSet());
        JobInvariant.State state = new JobInvariant.State(JobInvariant.rows(harness.db.dataSource()), stillQueued,
                Set.of(), harness.qdrant.pointIds(PipelineHarness.COLLECTION)).only(Set.copyOf(jobOfMessage.values()));
        assertEquals(List.of(), JobInvariant.violations(state), "the job lifecycle invariant");
    }
}
