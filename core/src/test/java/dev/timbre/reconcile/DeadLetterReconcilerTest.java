package dev.timbre.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.reconcile.DeadLetterReconciler.Action;
import dev.timbre.reconcile.DeadLetterReconciler.Mode;
import dev.timbre.store.StoredEmbedding;
import dev.timbre.testing.JobInvariant;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The DLQ reconciliation against ElasticMQ, Postgres and the Qdrant double: one case per kind of DLQ message. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeadLetterReconcilerTest {

    private PipelineHarness harness;
    private EmbeddedSqs.QueuePair queues;

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
    }

    @AfterAll
    void stop() {
        harness.close();
    }

    @BeforeEach
    void freshQueues() {
        queues = harness.sqs.createQueueWithDlq("reconcile-" + UUID.randomUUID().toString().substring(0, 8), 3,
                Duration.ofSeconds(5));
    }

    private DeadLetterReconciler reconciler(Optional<String> jobsQueue) {
        return new DeadLetterReconciler(harness.sqsClient, queues.dlqUrl(), jobsQueue, harness.jobs, harness.store,
                new JobMessageParser(), Duration.ofSeconds(30));
    }

    private UUID row(String voice, String state) {
        UUID id = UUID.randomUUID();
        harness.jobs.create(id, voice, PipelineHarness.key(voice, id));
        if (!state.equals("pending")) {
            harness.jobs.pickUp(id);
            harness.jobs.noteTransientError(id, "database unavailable: injected");
        }
        if (state.equals("with-point") || state.equals("completed") || state.equals("deleted")) {
            harness.store.upsert(new StoredEmbedding(id, voice, axis(), "m", Instant.now(), 1.0));
        }
        if (state.equals("completed")) {
            harness.jobs.complete(id, "{}");
        }
        if (state.equals("deleted")) {
            harness.db.execute("UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + id + "'");
        }
        return id;
    }

    private static float[] axis() {
        float[] v = new float[256];
        v[7] = 1f;
        return v;
    }

    private String dead(String body) {
        return harness.sqsClient.sendMessage(b -> b.queueUrl(queues.dlqUrl()).messageBody(body)).messageId();
    }

    private String dead(UUID job) {
        return dead(PipelineHarness.body(job, "voice-r"));
    }

    private Map<String, Action> byMessage(List<DeadLetterReconciler.Result> results) {
        Map<String, Action> map = new HashMap<>();
        results.forEach(r -> map.put(r.messageId(), r.action()));
        return map;
    }

    private boolean hasPoint(UUID job) {
        return harness.qdrant.point(PipelineHarness.COLLECTION, job).isPresent();
    }

    @Test
    void failModeFinishesOpenRowsDropsStaleCopiesAndKeepsPoison() {
        // given: the DLQ after an outage and a cut-off job, with a finished job's stale copy, a message without a row,
        // the message of a job deleted while it ran (its point written) and poison
        UUID pending = row("voice-r", "pending");
        UUID processingWithPoint = row("voice-r", "with-point");
        UUID completed = row("voice-r", "completed");
        UUID deleted = row("voice-r", "deleted");
        UUID noRow = UUID.randomUUID();
        Map<String, UUID> messages = new HashMap<>();
        for (UUID job : List.of(pending, processingWithPoint, completed, deleted, noRow)) {
            messages.put(dead(job), job);
        }
        String poison = dead("not json at all");
        List<DeadLetterReconciler.Result> printed = new ArrayList<>();

        // when
        List<DeadLetterReconciler.Result> results = reconciler(Optional.empty()).run(Mode.FAIL, printed::add);

        // then: one result per message, each reported as it happened
        assertEquals(6, results.size());
        assertEquals(results, printed);
        Map<String, Action> actions = byMessage(results);
        Map<UUID, Action> byJob = new HashMap<>();
        messages.forEach((m, job) -> byJob.put(job, actions.get(m)));
        assertEquals(Action.FAILED, byJob.get(pending));
        assertEquals(Action.FAILED, byJob.get(processingWithPoint));
        assertEquals(Action.DELETED_FINISHED, byJob.get(completed));
        assertEquals(Action.FAILED, byJob.get(deleted));
        assertEquals(Action.DELETED_NO_ROW, byJob.get(noRow));
        assertEquals(Action.KEPT_POISON, actions.get(poison));

        JobRecord abandoned = harness.job(processingWithPoint);
        assertEquals(JobStatus.FAILED, abandoned.status());
        assertEquals("abandoned after its message reached the DLQ (./timbre reconcile); last error: database "
                + "unavailable: injected", abandoned.error());
        assertFalse(hasPoint(processingWithPoint), "the point of the abandoned job is gone");
        assertEquals(JobStatus.FAILED, harness.job(pending).status());
        assertTrue(harness.job(pending).error().endsWith("no error was noted"), harness.job(pending).error());
        assertEquals(JobStatus.COMPLETED, harness.job(completed).status(), "a finished job is not touched");
        assertTrue(hasPoint(completed));
        assertEquals(JobStatus.FAILED, harness.job(deleted).status());
        assertFalse(hasPoint(deleted), "no point outlives a deleted job");

        // and only the poison is left, visible again at once
        assertEquals(Set.of(), JobInvariant.jobIdsIn(harness.sqsClient, queues.dlqUrl()));
        assertEquals(1, JobInvariant.depth(harness.sqsClient, queues.dlqUrl()));
        var left = harness.sqsClient.receiveMessage(b -> b.queueUrl(queues.dlqUrl()).waitTimeSeconds(0)).messages();
        assertEquals("not json at all", left.get(0).body());
    }

    @Test
    void requeueModeSendsOpenJobsBackToTheJobsQueue() {
        UUID open = row("voice-r", "with-point");
        UUID completed = row("voice-r", "completed");
        dead(open);
        dead(completed);

        List<DeadLetterReconciler.Result> results = reconciler(Optional.of(queues.queueUrl())).run(Mode.REQUEUE,
                r -> { });

        assertEquals(Set.of(Action.REQUEUED, Action.DELETED_FINISHED),
                Set.copyOf(results.stream().map(DeadLetterReconciler.Result::action).toList()));
        assertEquals(Set.of(open), JobInvariant.jobIdsIn(harness.sqsClient, queues.queueUrl()),
                "the open job is back in the jobs queue, the finished one is not");
        assertEquals(0, JobInvariant.depth(harness.sqsClient, queues.dlqUrl()));
        assertEquals(JobStatus.PROCESSING, harness.job(open).status(), "left for its redelivery to finish");
    }

    @Test
    void requeueWithoutAJobsQueueIsRefusedBeforeAnythingIsRead() {
        dead(row("voice-r", "pending"));

        assertThrows(IllegalArgumentException.class, () -> reconciler(Optional.empty()).run(Mode.REQUEUE, r -> { }));
        assertEquals(1, JobInvariant.depth(harness.sqsClient, queues.dlqUrl()));
    }

    @Test
    void dryRunChangesNothingAndSaysWhatFailModeWould() {
        UUID open = row("voice-r", "with-point");
        dead(open);

        List<DeadLetterReconciler.Result> results = reconciler(Optional.empty()).run(Mode.DRY_RUN, r -> { });

        assertEquals(1, results.size());
        assertEquals(Action.NONE, results.get(0).action());
        assertEquals(Action.FAILED, results.get(0).would());
        assertEquals(Optional.of("PROCESSING"), results.get(0).rowStatus());
        assertEquals(JobStatus.PROCESSING, harness.job(open).status());
        assertTrue(hasPoint(open));
        assertEquals(Set.of(open), JobInvariant.jobIdsIn(harness.sqsClient, queues.dlqUrl()), "still there, visible");
    }
}
