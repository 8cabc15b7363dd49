package dev.timbre.bridge.sqs;

import java.util.Set;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * The one place SQS failures are classified. A request-level failure is either transient (the same request may
 * succeed later: network, 5xx, throttling, missing permissions or queue while an operator fixes them) or caused by
 * the content of the batch (the request can never succeed as it is).
 */
public enum SqsFailure {
    /** Retry the same entries later, with backoff. */
    TRANSIENT,
    /** Something in the entries is refused: split the batch to find it, dead-letter it when alone. */
    CONTENT;

    // Request-level codes that depend on what we sent, not on the service's state. ElasticMQ answers an oversized
    // batch with InvalidAttributeValue where SQS says BatchRequestTooLong.
    private static final Set<String> CONTENT_CODES = Set.of(
            "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
            "InvalidMessageContents", "MessageTooLong", "InvalidAttributeValue", "InvalidAttributeName",
            "InvalidParameterValue", "InvalidParameterValueException",
            "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
            "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest");

    /** Classifies an exception thrown by {@code SendMessageBatch}. */
    public static SqsFailure of(Throwable t) {
        if (t instanceof SqsException e && e.statusCode() >= 400 && e.statusCode() < 500
                && e.awsErrorDetails() != null && CONTENT_CODES.contains(e.awsErrorDetails().errorCode())) {
            return CONTENT;
        }
        // Everything else: SdkClientException (I/O, timeouts), 5xx, throttling, AccessDenied, QueueDoesNotExist.
        // Nothing is lost by waiting: the messages stay unacked in RabbitMQ while we retry.
        return TRANSIENT;
    }

    /** A short label for logs and metrics. */
    public static String describe(Throwable t) {
        if (t instanceof SqsException e && e.awsErrorDetails() != null) {
            return e.awsErrorDetails().errorCode() + " (HTTP " + e.statusCode() + ")";
        }
        if (t instanceof SdkClientException) {
            return "client: " + t.getMessage();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
