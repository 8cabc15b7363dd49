package dev.timbre.lambda;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.timbre.pipeline.QueueMessage;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Maps Lambda's SQS event records to host-independent {@link QueueMessage}s. */
final class SqsEventRecords {

    private SqsEventRecords() {
    }

    static List<QueueMessage> toQueueMessages(SQSEvent event) {
        if (event == null || event.getRecords() == null) {
            return List.of();
        }
        return event.getRecords().stream().map(SqsEventRecords::toQueueMessage).toList();
    }

    static QueueMessage toQueueMessage(SQSEvent.SQSMessage record) {
        // attributes can be null in hand-written events (Powertools NPE'd on exactly that).
        Map<String, String> attributes = record.getAttributes() == null ? Map.of() : record.getAttributes();
        return new QueueMessage(record.getMessageId(), record.getBody(),
                QueueMessage.parseReceiveCount(attributes.get("ApproximateReceiveCount")),
                Optional.ofNullable(attributes.get("MessageGroupId")),
                QueueMessage.parseSentTimestamp(attributes.get("SentTimestamp")));
    }

    /** A batch comes from one queue; a FIFO queue's ARN ends with ".fifo". */
    static boolean isFifo(SQSEvent event) {
        return event != null && event.getRecords() != null && !event.getRecords().isEmpty()
                && dev.timbre.pipeline.BatchProcessor.isFifo(event.getRecords().get(0).getEventSourceArn());
    }
}
