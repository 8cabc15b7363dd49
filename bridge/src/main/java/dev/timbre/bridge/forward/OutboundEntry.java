package dev.timbre.bridge.forward;

import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * A delivery translated into one {@code SendMessageBatch} entry.
 *
 * @param delivery the AMQP delivery it settles
 * @param body the SQS body (the AMQP body decoded as UTF-8)
 * @param attributes at most 10 message attributes
 * @param groupId FIFO message group id, empty for standard queues
 * @param deduplicationId FIFO deduplication id, empty for standard queues
 * @param sizeBytes what the entry counts against SQS's 1 MiB limits: body plus attribute names, types and values
 * @param lane which sender lane carries it: FIFO groups stay on one lane so their batches go out in order
 */
public record OutboundEntry(Delivery delivery, String body, Map<String, MessageAttributeValue> attributes,
                            Optional<String> groupId, Optional<String> deduplicationId, int sizeBytes, int lane) {

    public OutboundEntry {
        attributes = Map.copyOf(attributes);
    }
}
