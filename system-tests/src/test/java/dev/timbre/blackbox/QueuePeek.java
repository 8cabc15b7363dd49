package dev.timbre.blackbox;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Reads what a queue holds without taking it away, as an operator does with {@code aws sqs receive-message}:
 * every visible message is received (hidden for the read), then handed back at once (visibility 0). Each peek
 * counts as one receive towards the queue's {@code maxReceiveCount}.
 */
final class QueuePeek {

    /** Long enough that one read never meets a message twice; the messages are handed back right after. */
    private static final int READ_VISIBILITY_SECONDS = 30;

    private QueuePeek() {
    }

    /** The visible messages of {@code queueUrl}, with their attributes. */
    static List<Message> visible(SqsClient sqs, String queueUrl) {
        Map<String, Message> seen = new LinkedHashMap<>();
        int empty = 0;
        // an empty short poll can miss messages on a distributed SQS: two in a row end the read
        while (empty < 2) {
            List<Message> batch = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                    .waitTimeSeconds(1).visibilityTimeout(READ_VISIBILITY_SECONDS)
                    .messageAttributeNames("All").messageSystemAttributeNamesWithStrings("All")).messages();
            empty = batch.isEmpty() ? empty + 1 : 0;
            batch.forEach(m -> seen.putIfAbsent(m.messageId(), m));
        }
        List<Message> messages = new ArrayList<>(seen.values());
        for (Message m : messages) {
            sqs.changeMessageVisibility(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
        }
        return messages;
    }
}
