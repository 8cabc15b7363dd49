package dev.timbre.lambda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobStatus;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.pipeline.SqsEvents;
import dev.timbre.testing.ChildProcess;
import dev.timbre.testing.NativeStderrNoise;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The handler as the Lambda runtime builds it: no-argument constructor in a fresh JVM whose environment is a
 * Lambda's ({@code AWS_LAMBDA_FUNCTION_NAME} set), two warm invocations. Init happens once, logs are JSON lines
 * carrying job_id, and each invocation writes an EMF line. The JVM's lines (stdout) stay JSON whatever a native
 * library writes to stderr: the test forces a libtorch-style warning there, as some CPUs do for real.
 */
class VoiceEmbeddingHandlerContainerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void containerInitialisesOnceAndServesWarmInvocationsWithJsonLogsAndMetrics() throws Exception {
        try (PipelineHarness harness = PipelineHarness.start()) {
            // given: two events, one job each, written as Lambda delivers them
            Path dir = Files.createTempDirectory("lambda-events");
            List<UUID> jobs = new ArrayList<>();
            List<String> files = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                UUID job = harness.submit("voice-lambda", PipelineHarness.voiceWav(700 + i, 1.0));
                jobs.add(job);
                Path file = dir.resolve("event-" + i + ".json");
                SqsEvents.write(SqsEvents.of(List.of(SqsEvents.Record.of(PipelineHarness.body(job, "voice-lambda")))), file);
                files.add(file.toString());
            }
            Map<String, String> env = harness.workerEnv();
            env.put("AWS_LAMBDA_FUNCTION_NAME", "timbre-worker");

            // when: the container runs, with a native library writing its own warnings straight to stderr (as
            // libtorch does on some CPUs, past logback) before and during the invocations
            ChildProcess.Result r = ChildProcess.run(ChildProcess.java(NativeStderrNoise.class.getName(),
                    concat(LambdaInvokeMain.class.getName(), files)), env, dir, Duration.ofSeconds(120));
            assertEquals(0, r.exit(), r::describe);
            List<String> lines = r.stdoutLines();

            // then: both invocations succeeded and did their work
            assertEquals(List.of("RESPONSE []", "RESPONSE []"),
                    lines.stream().filter(l -> l.startsWith("RESPONSE")).toList());
            for (UUID job : jobs) {
                assertEquals(JobStatus.COMPLETED, harness.job(job).status());
            }
            // every other line the JVM writes is one JSON object (logs and EMF), init logged once with its cost
            List<JsonNode> json = new ArrayList<>();
            for (String line : lines) {
                if (!line.startsWith("RESPONSE")) {
                    json.add(JSON.readTree(line));
                }
            }
            // the native lines stayed on stderr, apart from the JVM's: they never break a JSON line
            assertTrue(r.stderrLines().contains(NativeStderrNoise.LINE), r::describe);
            assertTrue(r.stderrLines().stream().noneMatch(l -> l.startsWith("{")), "no log line on stderr: " + r.stderr());
            assertEquals(1, json.stream().filter(n -> "worker initialised".equals(n.path("formattedMessage").asText())).count());
            assertTrue(json.stream().anyMatch(n -> "job completed".equals(n.path("formattedMessage").asText())
                    && jobs.get(1).toString().equals(n.at("/mdc/job_id").asText())), "job logs carry job_id");
            assertEquals(2, json.stream().filter(n -> n.has("_aws") && n.path("JobsCompleted").asInt() == 1).count(),
                    "one EMF line per invocation");
        }
    }

    private static String[] concat(String first, List<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all.toArray(String[]::new);
    }
}
