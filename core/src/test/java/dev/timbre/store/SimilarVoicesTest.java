package dev.timbre.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.JobQueries;
import dev.timbre.pipeline.PipelineHarness;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code ./timbre similar} only ever returns points of COMPLETED, not deleted jobs, even when the store holds points
 * of other jobs (a job deleted after it completed, a point not yet removed): the Postgres job table and the Qdrant
 * double, real client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SimilarVoicesTest {

    private PipelineHarness harness;

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
    }

    @AfterAll
    void stop() {
        harness.close();
    }

    /** A unit vector mostly along axis 0, tilted towards axis 1 by {@code tilt}. */
    private static float[] near(double tilt) {
        float[] v = new float[256];
        v[0] = 1f;
        v[1] = (float) tilt;
        return v;
    }

    private UUID job(String voice, float[] vector, String finish) {
        UUID id = UUID.randomUUID();
        harness.jobs.create(id, voice, "uploads/" + voice + "/" + id + ".wav");
        harness.jobs.pickUp(id);
        harness.store.upsert(new StoredEmbedding(id, voice, vector, "m", Instant.now(), 1.0));
        switch (finish) {
            case "completed" -> harness.jobs.complete(id, "{}");
            case "failed" -> harness.jobs.fail(id, "gave up after 3 attempts: injected");
            case "deleted" -> {
                harness.jobs.complete(id, "{}");
                harness.db.execute("UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + id + "'");
            }
            default -> { } // left PROCESSING
        }
        return id;
    }

    @Test
    void pointsOfJobsThatAreNotCompletedOrAreDeletedAreNeverListed() {
        // given: the voice asked about, and four others; the three closest to it are not COMPLETED-and-live
        job("sim-query", near(0), "completed");
        job("sim-failed", near(0.01), "failed");
        job("sim-deleted", near(0.02), "deleted");
        job("sim-running", near(0.03), "processing");
        UUID live = job("sim-live", near(0.5), "completed");

        // when
        List<Neighbour> nearest = new SimilarVoices(new JobQueries(harness.db.dataSource()), harness.store)
                .nearest("sim-query", 5, false).orElseThrow();

        // then
        assertEquals(List.of("sim-live"), nearest.stream().map(Neighbour::voiceId).toList());
        assertEquals(live, nearest.get(0).jobId());
    }

    @Test
    void aVoiceWhoseOnlyJobIsDeletedHasNoCompletedEmbedding() {
        job("sim-gone", near(0.2), "deleted");

        assertTrue(new SimilarVoices(new JobQueries(harness.db.dataSource()), harness.store)
                .nearest("sim-gone", 5, false).isEmpty());
    }
}
