package dev.timbre.notify;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Sends events in chunks of a batch API's size and resends only the entries the service refused (a batch call
 * succeeds as a whole and fails per entry: SQS {@code Failed}, EventBridge {@code FailedEntryCount}), a few times with
 * a short pause, as the bridge does for SQS. What still fails goes back to the caller, which leaves it in the outbox.
 */
final class EntryRetry {

    static final int ATTEMPTS = 3;

    private EntryRetry() {
    }

    /** @param sendChunk sends at most {@code chunkSize} events, returns the refused ones with their reason */
    static Map<UUID, String> send(List<OutboxEvent> events, int chunkSize,
                                  Function<List<OutboxEvent>, Map<UUID, String>> sendChunk) {
        Map<UUID, String> failed = new LinkedHashMap<>();
        for (int from = 0; from < events.size(); from += chunkSize) {
            List<OutboxEvent> pending = events.subList(from, Math.min(events.size(), from + chunkSize));
            Map<UUID, String> refused = Map.of();
            for (int attempt = 1; attempt <= ATTEMPTS && !pending.isEmpty(); attempt++) {
                if (attempt > 1) {
                    pause(50L << attempt);
                }
                refused = sendChunk.apply(pending);
                List<OutboxEvent> again = new ArrayList<>();
                for (OutboxEvent e : pending) {
                    if (refused.containsKey(e.eventId())) {
                        again.add(e);
                    }
                }
                pending = again;
            }
            for (OutboxEvent e : pending) {
                failed.put(e.eventId(), refused.get(e.eventId()));
            }
        }
        return failed;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
