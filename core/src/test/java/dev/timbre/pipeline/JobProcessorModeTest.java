package dev.timbre.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobMessage;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.tone.Extraction;
import dev.timbre.tone.SeMode;
import dev.timbre.tone.SpeechSummary;
import dev.timbre.tone.TooLittleSpeechException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link JobProcessor} embeds each job in the message's {@code se_mode}, else the deployment's default, and stores
 * that mode with the point, in the result and on the job row (with get-se's speech summary). The embedder is a fake
 * that records the mode it was asked for and answers as the real one would for that mode; the job table (Postgres),
 * S3 and Qdrant (double, real client) are the harness's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobProcessorModeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SpeechSummary SPEECH = new SpeechSummary(
            List.of(new double[] {0.25, 4.5}, new double[] {5.0, 12.75}), 12.0, List.of(12.0));

    private PipelineHarness harness;

    /** Answers like the real extractor per mode; remembers every mode asked for. */
    private static final class ModeRecordingEmbedder implements Embedder {
        final ConcurrentLinkedQueue<SeMode> modes = new ConcurrentLinkedQueue<>();

        @Override
        public Extraction extract(byte[] encodedAudio, SeMode mode) {
            modes.add(mode);
            float[] vector = new float[256];
            vector[mode.ordinal()] = 1f;
            return mode == SeMode.GET_SE
                    ? new Extraction(vector, 13.0, 22050, SeMode.GET_SE, Optional.of(SPEECH))
                    : new Extraction(vector, 13.0, 22050);
        }

        @Override
        public String modelId() {
            return "fake";
        }
    }

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
    }

    @AfterAll
    void stop() {
        harness.close();
    }

    private JobProcessor processor(Embedder embedder, SeMode deploymentDefault) {
        return new JobProcessor(harness.jobs, harness.audio, harness.store, embedder, deploymentDefault, 5,
                harness.metrics, Clock.systemUTC());
    }

    private JobMessage message(UUID jobId, String voice, String seMode) {
        String body = PipelineHarness.body(jobId, voice);
        if (seMode != null) {
            body = body.substring(0, body.length() - 1) + ",\"se_mode\":\"" + seMode + "\"}";
        }
        return new JobMessageParser().parse(body);
    }

    @ParameterizedTest(name = "message {0}, deployment {1} -> {2}")
    @CsvSource(nullValues = "none", value = {
        "none,       GET_SE,     GET_SE",
        "none,       EXTRACT_SE, EXTRACT_SE",
        "extract-se, GET_SE,     EXTRACT_SE",
        "get-se,     EXTRACT_SE, GET_SE"})
    void theMessagesModeWinsElseTheDeploymentsAndItIsStoredEverywhere(String messageMode, SeMode deployment,
                                                                      SeMode expected) throws Exception {
        // given
        ModeRecordingEmbedder embedder = new ModeRecordingEmbedder();
        UUID jobId = harness.submit("mode-voice", new byte[] {1, 2, 3});

        // when
        JobOutcome outcome = processor(embedder, deployment).process(message(jobId, "mode-voice", messageMode), 1);

        // then: asked in the expected mode, once
        assertEquals(Disposition.COMPLETED, outcome.disposition());
        assertEquals(List.of(expected), List.copyOf(embedder.modes));
        // the point carries it
        assertEquals(expected, harness.store.get(jobId).orElseThrow().seMode());
        // the row and its result carry it, and get-se's speech summary
        JobRecord row = harness.job(jobId);
        assertEquals(JobStatus.COMPLETED, row.status());
        assertEquals(Optional.of(expected), row.seMode());
        JsonNode result = JSON.readTree(row.resultJson());
        assertEquals(expected.id(), result.get("se_mode").asText());
        if (expected == SeMode.GET_SE) {
            JsonNode speech = JSON.readTree(row.speechJson());
            assertEquals(speech, result.get("speech"));
            assertEquals(JSON.readTree("{\"segments_s\":[[0.25,4.5],[5.0,12.75]],\"kept_s\":12.0,\"split_s\":[12.0]}"),
                    speech);
        } else {
            assertEquals(null, row.speechJson());
            assertTrue(result.path("speech").isMissingNode(), result.toString());
        }
    }

    @Test
    void tooLittleSpeechIsAPermanentFailureWithItsOneLine() {
        Embedder noSpeech = new Embedder() {
            @Override
            public Extraction extract(byte[] encodedAudio, SeMode mode) {
                throw new TooLittleSpeechException(1.5);
            }

            @Override
            public String modelId() {
                return "fake";
            }
        };
        UUID jobId = harness.submit("silent-voice", new byte[] {1});

        JobOutcome outcome = processor(noSpeech, SeMode.GET_SE).process(message(jobId, "silent-voice", null), 1);

        assertEquals(Disposition.FAILED, outcome.disposition());
        JobRecord row = harness.job(jobId);
        assertEquals(JobStatus.FAILED, row.status());
        assertEquals(new TooLittleSpeechException(1.5).getMessage(), row.error());
        assertEquals(Optional.empty(), row.seMode(), "no embedding, no mode");
        assertTrue(harness.store.get(jobId).isEmpty());
    }
}
