package dev.timbre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.config.TimbreConfig;
import java.io.PrintWriter;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * {@code timbre events}: reads the completion events from the SQS sink, {@code TIMBRE_EVENTS_QUEUE_URL}
 * (docs/architecture.md §13), as a consumer does: each message is printed once per event id (copies are expected:
 * delivery is at-least-once; {@code --all-copies} shows them) and deleted, unless {@code --keep}.
 */
@Command(name = "events", mixinStandardHelpOptions = true,
        description = {"Print the completion events on TIMBRE_EVENTS_QUEUE_URL (one line each, or --json), "
                + "de-duplicated by event id, and delete them from the queue (unless --keep).",
                "Without --follow, stops once the queue answers empty."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:read", "3:bad configuration (one line on stderr naming the variable)",
                "1:queue unreachable"})
final class EventsCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    VerboseOption verbosity;

    @Option(names = "--follow", description = "Keep reading (long polls) until interrupted.")
    boolean follow;

    @Option(names = "--json", description = "Print each event's JSON (EventBridge's shape), one a line.")
    boolean json;

    @Option(names = "--keep", description = "Leave the messages in the queue (they become visible again).")
    boolean keep;

    @Option(names = "--all-copies", description = "Print every copy of an event, not only the first (delivery is "
            + "at-least-once: copies carry the same event id).")
    boolean allCopies;

    /** The environment; tests replace it. */
    Map<String, String> env = System.getenv();

    @Override
    public Integer call() throws Exception {
        TimbreConfig.EventQueueSettings settings = TimbreConfig.eventQueueFromEnv(env);
        SqsClientBuilder builder = SqsClient.builder().region(Region.of(settings.region()))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClient(UrlConnectionHttpClient.create());
        settings.sqsEndpoint().ifPresent(builder::endpointOverride);
        String queue = settings.queueUrl().toString();
        PrintWriter out = spec.commandLine().getOut();
        Set<String> seen = new HashSet<>();
        Set<String> received = new HashSet<>();
        try (SqsClient sqs = builder.build()) {
            while (true) {
                List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(queue).maxNumberOfMessages(10)
                        .waitTimeSeconds(follow ? 20 : 1).visibilityTimeout(keep ? 0 : 30)).messages();
                boolean anyNew = false;
                for (Message m : messages) {
                    // --keep leaves every message visible, so the same ones come back: stop once nothing is new
                    if (received.add(m.messageId())) {
                        anyNew = true;
                        print(out, m.body(), seen);
                    }
                    if (!keep) {
                        sqs.deleteMessage(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()));
                    }
                }
                out.flush();
                if ((messages.isEmpty() || (keep && !anyNew)) && !follow) {
                    return ExitCodes.OK;
                }
            }
        }
    }

    private void print(PrintWriter out, String body, Set<String> seen) {
        JsonNode event;
        try {
            event = JSON.readTree(body);
        } catch (java.io.IOException e) {
            out.println(json ? body : "(not an event) " + body);
            return;
        }
        JsonNode detail = event.path("detail");
        // the stable id: detail.event_id (through EventBridge, "id" is EventBridge's own)
        String id = detail.path("event_id").asText(event.path("id").asText());
        if (!seen.add(id) && !allCopies) {
            return;
        }
        if (json) {
            out.println(body);
            return;
        }
        out.printf(Locale.ROOT, "%s  %-26s job %s voice %s status %s attempts %d%s%n", event.path("time").asText(),
                event.path("detail-type").asText(), detail.path("job_id").asText(), detail.path("voice_id").asText(),
                detail.path("status").asText(), detail.path("attempts").asInt(),
                detail.path("error").isTextual() ? " error " + detail.path("error").asText() : "");
    }
}
