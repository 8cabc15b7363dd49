package dev.timbre.lambda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import dev.timbre.config.TimbreConfig;
import dev.timbre.job.JobStatus;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.LocalContext;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.pipeline.SqsEvents;
import dev.timbre.pipeline.WorkerRuntime;
import dev.timbre.testing.FakeQdrant;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * SnapStart's hooks called as the CRaC runtime calls them: the engine primed and every connection closed before
 * the checkpoint, new connections after the restore, and the same handler object (the one the snapshot holds)
 * completing a job afterwards against the real servers (Postgres, the embedded S3/SQS, Qdrant over TCP).
 */
class SnapStartRuntimeTest {

    @Test
    void afterRestoreTheSnapshottedHandlerCompletesJobsOnNewConnections() throws Exception {
        String oldId = System.setProperty("aws.accessKeyId", EmbeddedS3.ACCESS_KEY);
        String oldSecret = System.setProperty("aws.secretAccessKey", EmbeddedS3.SECRET_KEY);
        try (PipelineHarness harness = PipelineHarness.start(); FakeQdrant qdrant = FakeQdrant.startWithTcp()) {
            Map<String, String> env = harness.workerEnv();
            env.put("TIMBRE_QDRANT_URL", qdrant.url());
            env.put("TIMBRE_QDRANT_COLLECTION", "snapstart_test");
            SnapStartRuntime snap = new SnapStartRuntime(TimbreConfig.fromEnv(env), "timbre-test");
            VoiceEmbeddingHandler handler = VoiceEmbeddingHandler.on(snap, Clock.systemUTC());
            UUID before = harness.submit("voice-before", PipelineHarness.voiceWav(700, 1.0));
            assertEquals(List.of(), invoke(handler, before, "voice-before").getBatchItemFailures());
            WorkerRuntime checkpointed = snap.runtime();
            String database = env.get("TIMBRE_DB_URL").replaceAll(".*/([^/?]+).*", "$1");
            int withPool = connectionsTo(database);

            snap.beforeCheckpoint(null);

            // the function's pool is closed: only the harness's own connections to the test database are left
            int checkpointedCount = awaitConnections(database, n -> n < withPool);
            assertTrue(checkpointedCount < withPool,
                    "the database pool is closed before the snapshot (" + withPool + " connections before)");

            assertThrows(IllegalStateException.class, snap::runtime, "no runtime between checkpoint and restore");

            snap.afterRestore(null);

            assertNotSame(checkpointed, snap.runtime(), "new connections after restore");
            assertTrue(awaitConnections(database, n -> n > checkpointedCount) > checkpointedCount,
                    "the restored runtime opens its own pool");
            UUID after = harness.submit("voice-after", PipelineHarness.voiceWav(701, 1.0));
            SQSBatchResponse response = invoke(handler, after, "voice-after");
            assertEquals(List.of(), response.getBatchItemFailures());
            assertEquals(JobStatus.COMPLETED, harness.job(before).status());
            assertEquals(JobStatus.COMPLETED, harness.job(after).status());
            assertTrue(qdrant.point("snapstart_test", after).isPresent(), "stored through the new Qdrant channel");
            snap.runtime().close();
            snap.extractor().close();
        } finally {
            restore("aws.accessKeyId", oldId);
            restore("aws.secretAccessKey", oldSecret);
        }
    }

    @Test
    void thePrimingSignalIsTwoSecondsOfBoundedAudio() {
        float[] s = SnapStartRuntime.primingSignal(22050);
        assertEquals(44100, s.length);
        float peak = 0;
        for (float v : s) {
            peak = Math.max(peak, Math.abs(v));
        }
        assertTrue(peak > 0.1f && peak < 1f, "peak " + peak);
    }

    /** Backends connected to {@code database} now (pg_stat_activity, via the postgres database). */
    private static int connectionsTo(String database) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
             PreparedStatement q = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE datname = ?")) {
            q.setString(1, database);
            try (ResultSet r = q.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    /** A backend ends a moment after its client closes: polls up to 10 s for {@code until}, returns the last count. */
    private static int awaitConnections(String database, IntPredicate until) throws Exception {
        int n = connectionsTo(database);
        for (int i = 0; i < 100 && !until.test(n); i++) {
            Thread.sleep(100);
            n = connectionsTo(database);
        }
        return n;
    }

    private static SQSBatchResponse invoke(VoiceEmbeddingHandler handler, UUID job, String key) {
        return handler.handleRequest(SqsEvents.of(List.of(SqsEvents.Record.of(PipelineHarness.body(job, key)))),
                new LocalContext("timbre-test", Duration.ofSeconds(60).toMillis(), 2048));
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
