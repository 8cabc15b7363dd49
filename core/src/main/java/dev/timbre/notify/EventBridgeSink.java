package dev.timbre.notify;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResultEntry;

/**
 * Events to an EventBridge bus ({@code PutEvents}, at most 10 entries a request). PutEvents answers 200 even when
 * entries failed: {@code FailedEntryCount} says how many, and the result entries, in request order, carry
 * {@code ErrorCode}/{@code ErrorMessage} for the refused ones, which {@link EntryRetry} resends alone.
 * Thread-safe; closes the client it was given.
 */
public final class EventBridgeSink implements EventSink {

    static final int MAX_ENTRIES = 10;

    private final EventBridgeClient events;
    private final String bus;

    public EventBridgeSink(EventBridgeClient events, String bus) {
        this.events = events;
        this.bus = bus;
    }

    @Override
    public Map<UUID, String> send(List<OutboxEvent> batch) {
        return EntryRetry.send(batch, MAX_ENTRIES, this::sendChunk);
    }

    private Map<UUID, String> sendChunk(List<OutboxEvent> chunk) {
        List<PutEventsRequestEntry> entries = new ArrayList<>();
        for (OutboxEvent e : chunk) {
            entries.add(PutEventsRequestEntry.builder().eventBusName(bus).source(JobEvents.SOURCE)
                    .detailType(e.detailType()).detail(e.detailJson()).time(e.createdAt()).build());
        }
        PutEventsResponse response = events.putEvents(b -> b.entries(entries));
        Map<UUID, String> refused = new HashMap<>();
        Integer failedCount = response.failedEntryCount();
        if (failedCount == null || failedCount == 0) {
            return refused;
        }
        List<PutEventsResultEntry> results = response.entries();
        for (int i = 0; i < chunk.size(); i++) {
            // a missing result entry is treated as refused: better one more copy than a lost event
            PutEventsResultEntry result = i < results.size() ? results.get(i) : null;
            if (result == null || result.errorCode() != null || result.eventId() == null) {
                refused.put(chunk.get(i).eventId(), result == null ? "no result entry"
                        : result.errorCode() + ": " + result.errorMessage());
            }
        }
        return refused;
    }

    @Override
    public String describe() {
        return "eventbridge:" + bus;
    }

    @Override
    public void close() {
        events.close();
    }
}
