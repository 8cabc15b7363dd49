package dev.timbre.notify;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Where completion events go: an EventBridge bus or an SQS queue (docs/architecture.md §13). Thread-safe. */
public interface EventSink extends AutoCloseable {

    /**
     * Sends the events. Entries the service refused are retried a few times (only those), then returned.
     *
     * @return the events not delivered, with the service's reason; empty when all were
     * @throws RuntimeException when the service could not be reached at all (then none count as delivered)
     */
    Map<UUID, String> send(List<OutboxEvent> events);

    /** For logs: the kind and target, for example {@code eventbridge:timbre-events}. */
    String describe();

    @Override
    void close();
}
