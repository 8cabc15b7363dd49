package dev.timbre.bridge.testing;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * Reads everything that arrives in an SQS queue (receive + delete), in arrival order, and tells which AMQP message
 * ids came, which are missing and which came more than once. Not thread-safe: one test thread polls it.
 */
public final class SqsCollector {

    private final SqsClient client;
    private final String queueUrl;
    private final List<Message> received = new ArrayList<>();

    public SqsCollector(SqsClient client, URI queueUrl) {
        this.client = client;
        this.queueUrl = queueUrl.toString();
    }

    /** Receives until {@code expectedIds} all arrived or the timeout passes; returns the messages so far. */
    public List<Message> awaitIds(Collection<String> expectedIds, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!distinctIds().containsAll(expectedIds) && System.nanoTime() < deadline) {
            pollOnce();
        }
        return received;
    }

    /** Receives until the queue has been quiet for {@code quiet} (to catch late duplicates). */
    public List<Message> drainUntilQuiet(Duration quiet) {
        long quietUntil = System.nanoTime() + quiet.toNanos();
        while (System.nanoTime() < quietUntil) {
            if (pollOnce() > 0) {
                quietUntil = System.nanoTime() + quiet.toNanos();
            }
        }
        return received;
    }

    public int pollOnce() {
        ReceiveMessageResponse r = client.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                .waitTimeSeconds(1).messageAttributeNames("All").messageSystemAttributeNamesWithStrings("All"));
        if (r.messages().isEmpty()) {
            return 0;
        }
        received.addAll(r.messages());
        List<DeleteMessageBatchRequestEntry> deletes = new ArrayList<>();
        for (int i = 0; i < r.messages().size(); i++) {
            deletes.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
                    .receiptHandle(r.messages().get(i).receiptHandle()).build());
        }
        client.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(deletes));
        return r.messages().size();
    }

    public List<Message> received() {
        return received;
    }

    public List<String> ids() {
        List<String> ids = new ArrayList<>();
        for (Message m : received) {
            var attr = m.messageAttributes().get("amqp_message_id");
            ids.add(attr == null ? null : attr.stringValue());
        }
        return ids;
    }

    public Set<String> distinctIds() {
        return new HashSet<>(ids());
    }

    public int duplicates() {
        return received.size() - distinctIds().size();
    }
}
