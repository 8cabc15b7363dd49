package dev.timbre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.testing.ChildProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@code ./timbre submit} as a user runs it, in a process of its own, against a real database and S3 (S3Proxy).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SubmitCommandTest {

    private PipelineHarness harness;

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
    }

    @AfterAll
    void stop() {
        harness.close();
    }

    @Test
    void withNowhereToPublishItIsAConfigurationErrorThatUploadsNothingAndCreatesNoJob(@TempDir Path tmp)
            throws Exception {
        Path clip = tmp.resolve("clip.wav");
        Files.write(clip, PipelineHarness.voiceWav(3, 1.0));
        Map<String, String> env = harness.workerEnv(); // database, S3, converter; neither TIMBRE_QUEUE_URL nor AMQP
        env.remove("TIMBRE_QUEUE_URL");

        ChildProcess.Result r = LauncherTest.timbre(env, "submit", clip.toString(), "--voice", "voice-nowhere");

        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r::describe);
        assertEquals("", r.stdout(), r::describe);
        assertTrue(r.stderr().startsWith("timbre submit: TIMBRE_AMQP_URL or TIMBRE_QUEUE_URL is required"), r::describe);
        assertEquals(0, jobsOfVoice("voice-nowhere"), "no job row for a job that was never submitted");
        assertEquals(0, harness.s3Client.listObjectsV2(b -> b.bucket(PipelineHarness.BUCKET)).contents().stream()
                .map(S3Object::key).filter(k -> k.startsWith("uploads/")).count(), "no upload either");
    }

    private long jobsOfVoice(String voiceId) throws Exception {
        try (Connection c = harness.db.dataSource().getConnection();
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM voice_processing_jobs WHERE voice_id = ?")) {
            s.setString(1, voiceId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
