package dev.timbre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.local.EmbeddedSqs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import software.amazon.awssdk.services.sqs.SqsClient;

/** {@code ./timbre events} against a real SQS protocol server (ElasticMQ) holding events in the sink's shape. */
class EventsCommandTest {

    private static EmbeddedSqs sqs;
    private static SqsClient client;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void start() {
        sqs = EmbeddedSqs.start();
        client = sqs.newClient();
        // the SDK's default chain reads these first; ElasticMQ accepts any signature
        System.setProperty("aws.accessKeyId", EmbeddedSqs.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", EmbeddedSqs.SECRET_KEY);
    }

    @AfterAll
    static void stop() {
        client.close();
        sqs.close();
    }

    private static Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new TimbreCli());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler(new OneLineErrors());
        ((EventsCommand) cli.getSubcommands().get("events").getCommand()).env = env;
        return new Run(cli.execute(args), out.toString(), err.toString());
    }

    private static String event(UUID id, UUID job, String status) {
        return "{\"version\":\"0\",\"id\":\"" + id + "\",\"detail-type\":\"Voice Embedding "
                + (status.equals("COMPLETED") ? "Completed" : "Failed") + "\",\"source\":\"timbre\",\"time\":"
                + "\"2026-12-03T00:00:00Z\",\"detail\":{\"event_id\":\"" + id + "\",\"job_id\":\"" + job
                + "\",\"voice_id\":\"alice\",\"status\":\"" + status + "\",\"attempts\":1,\"error\":"
                + (status.equals("FAILED") ? "\"bad audio\"" : "null") + "}}";
    }

    private static Map<String, String> env(String queue) {
        Map<String, String> env = new HashMap<>(sqs.env());
        env.put("TIMBRE_EVENTS_QUEUE_URL", queue);
        return env;
    }

    @Test
    void printsEachEventOnceAndConsumesTheQueue() {
        String queue = sqs.createQueue("events-" + UUID.randomUUID(), Duration.ofSeconds(30));
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        UUID jobA = UUID.randomUUID();
        for (String body : List.of(event(a, jobA, "COMPLETED"), event(a, jobA, "COMPLETED"),
                event(b, UUID.randomUUID(), "FAILED"))) {
            client.sendMessage(m -> m.queueUrl(queue).messageBody(body));
        }

        Run keep = run(env(queue), "events", "--json", "--all-copies", "--keep");
        assertEquals(0, keep.exit(), keep.err());
        assertEquals(3, keep.out().lines().count(), "--all-copies shows the copy: " + keep.out());

        Run r = run(env(queue), "events");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), "one line per event id: " + r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("Voice Embedding Failed") && l.contains("error bad audio")),
                r.out());
        assertEquals("", r.err());

        Run after = run(env(queue), "events");
        assertEquals("", after.out(), "the events were consumed");
    }

    @Test
    void withoutTheQueueItStopsNamingTheVariable() {
        Run r = run(new HashMap<>(sqs.env()), "events");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.err().contains("TIMBRE_EVENTS_QUEUE_URL"), r.err());
    }
}
