package dev.timbre.pipeline;

import java.util.Map;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;

/**
 * Moves poison messages to the dead-letter queue at once (docs/architecture.md §6), with the reason as the message attribute
 * {@value #REASON_ATTRIBUTE} and the original message id as {@value #ORIGINAL_ID_ATTRIBUTE}. The body is
 * copied unchanged so an operator can fix and replay it.
 *
 * <p>A FIFO DLQ (URL ending in {@code .fifo}) needs a message group and a deduplication id: the original group
 * keeps the poison message with its siblings, and the original message id makes a repeated move within the
 * five-minute deduplication window a no-op.
 *
 * <p>Thread-safe (the SDK client is). Does not own the client.
 */
public final class DeadLetterQueue {

    public static final String REASON_ATTRIBUTE = "timbre_poison_reason";
    public static final String ORIGINAL_ID_ATTRIBUTE = "timbre_original_message_id";
    private static final int MAX_ATTRIBUTE_CHARS = 1000;

    private final SqsClient sqs;
    private final String queueUrl;
    private final boolean fifo;

    public DeadLetterQueue(SqsClient sqs, String queueUrl) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.fifo = queueUrl.endsWith(".fifo");
    }

    /**
     * Sends the message to the DLQ and returns once SQS has accepted it.
     *
     * @throws DeadLetterException when SQS did not accept it; the caller must then not acknowledge the original
     */
    public void send(QueueMessage message, String reason) {
        SendMessageRequest.Builder request = SendMessageRequest.builder()
                .queueUrl(queueUrl)
                // An empty body is not allowed by SQS; such a message is poison and must still be kept.
                .messageBody(message.body() == null || message.body().isEmpty() ? "(empty body)" : message.body())
                .messageAttributes(Map.of(
                        REASON_ATTRIBUTE, stringAttribute(reason),
                        ORIGINAL_ID_ATTRIBUTE, stringAttribute(message.messageId())));
        if (fifo) {
            request.messageGroupId(message.messageGroupId().orElse("poison"))
                    .messageDeduplicationId(message.messageId());
        }
        try {
            sqs.sendMessage(request.build());
        } catch (SdkException e) {
            throw new DeadLetterException("could not move poison message " + message.messageId()
                    + " to the DLQ: " + e.getMessage(), e);
        }
    }

    private static MessageAttributeValue stringAttribute(String value) {
        // SQS rejects empty attribute values; a reason is one line, kept short so it never crowds out the body.
        String v = value == null || value.isEmpty() ? "(none)" : value;
        if (v.length() > MAX_ATTRIBUTE_CHARS) {
            v = v.substring(0, MAX_ATTRIBUTE_CHARS) + "…";
        }
        return MessageAttributeValue.builder().dataType("String").stringValue(v).build();
    }

    /** The DLQ did not accept a poison message. */
    public static final class DeadLetterException extends RuntimeException {
        public DeadLetterException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
