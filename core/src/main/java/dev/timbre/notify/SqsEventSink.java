package dev.timbre.notify;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * Events as SQS messages ({@code SendMessageBatch}, 10 a request), body = {@link EventEnvelope}: the sink of local runs
 * and tests (ElasticMQ), and of deployments that want a queue without a bus. Per-entry failures ({@code Failed}) are
 * resent by {@link EntryRetry}. Thread-safe; closes the client it was given.
 */
public final class SqsEventSink implements EventSink {

    static final int MAX_ENTRIES = 10;

    private final SqsClient sqs;
    private final String queueUrl;

    public SqsEventSink(SqsClient sqs, String queueUrl) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
    }

    @Override
    public Map<UUID, String> send(List<OutboxEvent> events) {
        return EntryRetry.send(events, MAX_ENTRIES, this::sendChunk);
    }

    private Map<UUID, String> sendChunk(List<OutboxEvent> chunk) {
        List<SendMessageBatchRequestEntry> entries = new java.util.ArrayList<>();
        for (int i = 0; i < chunk.size(); i++) {
            entries.add(SendMessageBatchRequestEntry.builder().id(Integer.toString(i))
                    .messageBody(EventEnvelope.json(chunk.get(i))).build());
        }
        SendMessageBatchResponse response = sqs.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
        Map<UUID, String> refused = new HashMap<>();
        for (BatchResultErrorEntry failed : response.failed()) {
            refused.put(chunk.get(Integer.parseInt(failed.id())).eventId(), failed.code() + ": " + failed.message());
        }
        return refused;
    }

    @Override
    public String describe() {
        return "sqs:" + queueUrl;
    }

    @Override
    public void close() {
        sqs.close();
    }
}
