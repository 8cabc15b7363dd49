package dev.timbre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobStatus;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.testing.ChildProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import picocli.CommandLine;

/**
 * {@code ./timbre reconcile} as an operator runs it: configuration from the environment (here a map), a real DLQ
 * (ElasticMQ), the job table and the Postgres embedding store; JSON lines on stdout, one line on stderr, exit codes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReconcileCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PipelineHarness harness;
    private EmbeddedSqs.QueuePair queues;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
        queues = harness.sqs.createQueueWithDlq("cli-reconcile", 3, Duration.ofSeconds(5));
        // The command builds its SQS client with the SDK's default credentials chain, as in production
        System.setProperty("aws.accessKeyId", EmbeddedSqs.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", EmbeddedSqs.SECRET_KEY);
    }

    @AfterAll
    void stop() {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        harness.close();
    }

    private Map<String, String> env() {
        Map<String, String> env = harness.workerEnv(); // database, SQS endpoint, converter: what a worker has
        env.put("TIMBRE_DLQ_URL", queues.dlqUrl());
        return env;
    }

    private static Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new TimbreCli());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler(new OneLineErrors());
        ((ReconcileCommand) cli.getSubcommands().get("reconcile").getCommand()).env = env;
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void finishesAnOpenJobFromTheDlqAndPrintsOneJsonLinePerMessage() throws Exception {
        // given: a job left PROCESSING whose message is in the DLQ
        UUID job = UUID.randomUUID();
        harness.jobs.create(job, "voice-cli", PipelineHarness.key("voice-cli", job));
        harness.jobs.pickUp(job);
        harness.sqsClient.sendMessage(b -> b.queueUrl(queues.dlqUrl()).messageBody(PipelineHarness.body(job,
                "voice-cli")));

        // when
        Run r = run(env(), "reconcile");

        // then
        assertEquals(ExitCodes.OK, r.exit(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(1, lines.length, r.out());
        JsonNode line = JSON.readTree(lines[0]);
        assertEquals(job.toString(), line.get("job_id").asText());
        assertEquals("PROCESSING", line.get("row_status").asText());
        assertEquals("failed", line.get("action").asText());
        assertEquals("timbre reconcile: 1 DLQ messages (1 failed)", r.err().strip());
        assertEquals(JobStatus.FAILED, harness.job(job).status());
    }

    @Test
    void asAProcessOfItsOwnStdoutIsOnlyTheJsonLinesAndStderrOnlyTheCount() throws Exception {
        // given: an open job whose message is in the DLQ
        UUID job = UUID.randomUUID();
        harness.jobs.create(job, "voice-cli-process", PipelineHarness.key("voice-cli-process", job));
        harness.sqsClient.sendMessage(b -> b.queueUrl(queues.dlqUrl()).messageBody(PipelineHarness.body(job,
                "voice-cli-process")));

        // when: ./timbre reconcile in its own JVM, as an operator pipes it (its logging is chosen there, not here)
        ChildProcess.Result r = LauncherTest.timbre(env(), "reconcile");

        // then: every stdout line is a JSON object (no log line among them), and stderr holds only the count
        assertEquals(ExitCodes.OK, r.exit(), r::describe);
        List<String> lines = r.stdout().lines().toList();
        assertEquals(1, lines.size(), r::describe);
        assertEquals(job.toString(), JSON.readTree(lines.get(0)).get("job_id").asText(), r::describe);
        assertEquals(List.of("timbre reconcile: 1 DLQ messages (1 failed)"), r.stderrLines(), r::describe);
        assertEquals(JobStatus.FAILED, harness.job(job).status());
    }

    @Test
    void requeueAndDryRunTogetherIsAUsageError() {
        assertEquals(ExitCodes.USAGE, run(env(), "reconcile", "--requeue", "--dry-run").exit());
    }

    @Test
    void aMissingDlqUrlIsRejectedConfigurationInOneLine() {
        Map<String, String> env = env();
        env.remove("TIMBRE_DLQ_URL");

        Run r = run(env, "reconcile");

        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertEquals("timbre reconcile: TIMBRE_DLQ_URL is required: it is the queue reconciled", r.err().strip());
        assertTrue(r.out().isEmpty());
    }

    @Test
    void requeueWithoutTheJobsQueueUrlIsRejectedConfiguration() {
        Run r = run(env(), "reconcile", "--requeue");

        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.err().strip().startsWith("timbre reconcile: TIMBRE_QUEUE_URL is required with --requeue"), r.err());
    }
}
