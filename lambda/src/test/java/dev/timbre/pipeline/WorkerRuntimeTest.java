package dev.timbre.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import dev.timbre.config.InvalidConfigException;
import dev.timbre.config.TimbreConfig;
import dev.timbre.job.JobStatus;
import dev.timbre.lambda.VoiceEmbeddingHandler;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.LocalContext;
import dev.timbre.testing.FakeQdrant;
import dev.timbre.tone.ToneColorExtractor;
import dev.timbre.tone.checkpoint.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production wiring: {@link WorkerRuntime} built from an environment map exactly as a Lambda container or
 * the ECS worker builds it (Qdrant over a real TCP port, collection created at start), driving the handler.
 */
class WorkerRuntimeTest {

    @Test
    void runtimeBuiltFromTheEnvironmentProcessesABatchEndToEnd() {
        // The SDK reads credentials from the process environment, which a test cannot set: the equivalent
        // system properties stand in for AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
        String oldId = System.setProperty("aws.accessKeyId", EmbeddedS3.ACCESS_KEY);
        String oldSecret = System.setProperty("aws.secretAccessKey", EmbeddedS3.SECRET_KEY);
        try (PipelineHarness harness = PipelineHarness.start(); FakeQdrant qdrant = FakeQdrant.startWithTcp()) {
            // given
            Map<String, String> env = harness.workerEnv();
            env.put("TIMBRE_QDRANT_URL", qdrant.url());
            env.put("TIMBRE_QDRANT_COLLECTION", "runtime_test");
            PipelineHarness.extractor(); // the process already holds the weights: the runtime must share them
            int loadsBefore = ToneColorExtractor.weightLoads();
            UUID job = harness.submit("voice-runtime", PipelineHarness.voiceWav(500, 1.0));

            try (WorkerRuntime runtime = WorkerRuntime.fromEnvironment(env, "timbre-test")) {
                VoiceEmbeddingHandler handler = new VoiceEmbeddingHandler(runtime.batches(), runtime.metrics(),
                        runtime.config().deadlineMargin(), Clock.systemUTC());

                // when
                SQSBatchResponse response = handler.handleRequest(SqsEvents.of(List.of(
                                SqsEvents.Record.of(PipelineHarness.body(job, "voice-runtime")),
                                SqsEvents.Record.of("not json"))),
                        new LocalContext("timbre-test", Duration.ofSeconds(60).toMillis(), 2048));

                // then
                assertEquals(List.of(), response.getBatchItemFailures());
                assertEquals(JobStatus.COMPLETED, harness.job(job).status());
                assertTrue(qdrant.collection("runtime_test").isPresent(), "collection created at start");
                assertTrue(qdrant.point("runtime_test", job).isPresent());
                assertEquals(1, harness.drainDlq().size());
                assertEquals(loadsBefore, ToneColorExtractor.weightLoads(), "weights shared, not loaded again");
                assertEquals(2, runtime.config().workerThreads());
            }
        } finally {
            restore("aws.accessKeyId", oldId);
            restore("aws.secretAccessKey", oldSecret);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void aBadConverterStopsStartUpWithTheCheckpointErrorThoughItLoadedOnItsOwnThread(@TempDir Path converter)
            throws Exception {
        // a directory (what the configuration checks) whose checkpoint is not a zip archive
        Files.copy(PipelineHarness.CONVERTER.resolve("config.json"), converter.resolve("config.json"));
        Files.writeString(converter.resolve("checkpoint.pth"), "not a checkpoint");
        try (PipelineHarness harness = PipelineHarness.start()) {
            Map<String, String> env = harness.workerEnv();
            env.put("TIMBRE_CONVERTER_DIR", converter.toString());

            // the pool and clients open while the model loads; the load's own exception surfaces, not a wrapper
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> WorkerRuntime.create(TimbreConfig.fromEnv(env), "timbre-test"));

            assertTrue(e.getMessage().contains("checkpoint.pth"), e.getMessage());
        }
    }

    @Test
    void missingDlqUrlStopsStartUpNamingTheVariable() {
        Map<String, String> env = Map.of("TIMBRE_DB_URL", "jdbc:postgresql://127.0.0.1:5432/none",
                "TIMBRE_DB_USER", "postgres", "TIMBRE_S3_BUCKET", "timbre-uploads", "AWS_REGION", "eu-west-1",
                "TIMBRE_CONVERTER_DIR", PipelineHarness.CONVERTER.toAbsolutePath().toString());

        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> WorkerRuntime.create(TimbreConfig.fromEnv(env), "timbre-test"));

        assertEquals("TIMBRE_DLQ_URL is required: poison messages are moved there", e.getMessage());
    }
}
