package dev.timbre.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.format.DateTimeFormatter;

/**
 * The EventBridge event shape (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html), as a
 * rule delivers it to an SQS queue: what the SQS sink writes, so a consumer reads the same JSON from either sink.
 * {@code id} is the outbox's stable event id here; through EventBridge, {@code id} is EventBridge's own and the
 * stable one is {@code detail.event_id}, which consumers de-duplicate on.
 */
public final class EventEnvelope {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EventEnvelope() {
    }

    public static String json(OutboxEvent event) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "0");
        root.put("id", event.eventId().toString());
        root.put("detail-type", event.detailType());
        root.put("source", JobEvents.SOURCE);
        root.put("account", "");
        root.put("time", DateTimeFormatter.ISO_INSTANT.format(event.createdAt().truncatedTo(
                java.time.temporal.ChronoUnit.SECONDS)));
        root.put("region", "");
        root.putArray("resources");
        try {
            root.set("detail", JSON.readTree(event.detailJson()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("event " + event.eventId() + " has a detail that is not JSON", e);
        }
        return root.toString();
    }
}
