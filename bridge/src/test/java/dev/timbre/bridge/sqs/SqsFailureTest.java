package dev.timbre.bridge.sqs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.model.SqsException;

class SqsFailureTest {

    private static SqsException sqs(int status, String code) {
        return (SqsException) SqsException.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).build()).build();
    }

    @Test
    void contentErrorsAreSplitNotRetriedForever() {
        assertEquals(SqsFailure.CONTENT, SqsFailure.of(sqs(400, "BatchRequestTooLong")));
        assertEquals(SqsFailure.CONTENT, SqsFailure.of(sqs(400, "InvalidAttributeValue")));
        assertEquals(SqsFailure.CONTENT, SqsFailure.of(sqs(400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")));
    }

    @Test
    void outagesThrottlingAndPermissionsAreTransient() {
        // dead-lettering on these would empty a healthy queue into the DLQ during an outage or a misconfiguration
        assertEquals(SqsFailure.TRANSIENT, SqsFailure.of(SdkClientException.create("Connection refused")));
        assertEquals(SqsFailure.TRANSIENT, SqsFailure.of(sqs(500, "InternalError")));
        assertEquals(SqsFailure.TRANSIENT, SqsFailure.of(sqs(400, "ThrottlingException")));
        assertEquals(SqsFailure.TRANSIENT, SqsFailure.of(sqs(403, "AccessDenied")));
        assertEquals(SqsFailure.TRANSIENT, SqsFailure.of(sqs(400, "AWS.SimpleQueueService.NonExistentQueue")));
    }

    @Test
    void backoffGrowsWithJitterUpToTheCap() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
        for (int i = 0; i < 100; i++) {
            long first = b.delay(1).toMillis();
            long late = b.delay(30).toMillis();
            assertEquals(true, first >= 50 && first <= 100, "attempt 1: " + first);
            assertEquals(true, late >= 50 && late <= 5000, "attempt 30: " + late);
        }
    }
}
