package dev.timbre.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.JobQueries;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.tone.SeMode;
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
        return job(voice, vector, finish, SeMode.EXTRACT_SE);
    }

    private UUID job(String voice, float[] vector, String finish, SeMode mode) {
        UUID id = UUID.randomUUID();
        harness.jobs.create(id, voice, "uploads/" + voice + "/" + id + ".wav");
        harness.jobs.pickUp(id);
        harness.store.upsert(new StoredEmbedding(id, voice, vector, "m", Instant.now(), 1.0, mode));
        String result = "{\"se_mode\":\"" + mode.id() + "\"}";
        switch (finish) {
            case "completed" -> harness.jobs.complete(id, result);
            case "failed" -> harness.jobs.fail(id, "gave up after 3 attempts: injected");
            case "deleted" -> {
                harness.jobs.complete(id, result);
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
                .nearest("sim-query", 5, false, SeMode.EXTRACT_SE).orElseThrow();

        // then
        assertEquals(List.of("sim-live"), nearest.stream().map(Neighbour::voiceId).toList());
        assertEquals(live, nearest.get(0).jobId());
    }

    @Test
    void aVoiceWhoseOnlyJobIsDeletedHasNoCompletedEmbedding() {
        job("sim-gone", near(0.2), "deleted");

        assertTrue(new SimilarVoices(new JobQueries(harness.db.dataSource()), harness.store)
                .nearest("sim-gone", 5, false, SeMode.EXTRACT_SE).isEmpty());
    }

    @Test
    void similarComparesOnlyEmbeddingsOfTheQueryMode() {
        // given: voice mq has one embedding in each mode; the nearest other voice in get-se is mq-get, in
        // extract-se mq-extract; each would be the best hit of the other mode's search if modes mixed
        job("mq", near(0), "completed", SeMode.GET_SE);
        job("mq", near(1.0), "completed", SeMode.EXTRACT_SE);
        UUID getHit = job("mq-get", near(0.05), "completed", SeMode.GET_SE);
        UUID extractHit = job("mq-extract", near(1.05), "completed", SeMode.EXTRACT_SE);
        SimilarVoices similar = new SimilarVoices(new JobQueries(harness.db.dataSource()), harness.store);

        // when
        List<Neighbour> inGetSe = similar.nearest("mq", 10, false, SeMode.GET_SE).orElseThrow();
        List<Neighbour> inExtractSe = similar.nearest("mq", 10, false, SeMode.EXTRACT_SE).orElseThrow();

        // then: no hit of the other mode, whatever its score
        assertTrue(inGetSe.stream().noneMatch(n -> n.voiceId().equals("mq-extract")), inGetSe.toString());
        assertEquals(getHit, inGetSe.get(0).jobId());
        assertTrue(inExtractSe.stream().noneMatch(n -> n.voiceId().equals("mq-get")), inExtractSe.toString());
        assertEquals(extractHit, inExtractSe.get(0).jobId());
    }

    @Test
    void aVoiceWithEmbeddingsOfOneModeOnlyHasNoneInTheOther() {
        job("only-get", near(0.3), "completed", SeMode.GET_SE);
        SimilarVoices similar = new SimilarVoices(new JobQueries(harness.db.dataSource()), harness.store);

        assertTrue(similar.nearest("only-get", 5, false, SeMode.EXTRACT_SE).isEmpty());
        assertTrue(similar.nearest("only-get", 5, false, SeMode.GET_SE).isPresent());
    }
}
