package dev.timbre.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The local event-source mapping against a real SQS protocol server (ElasticMQ): failed records come back after
 * the visibility timeout, and the queue's redrive policy moves a record that never succeeds to the DLQ after
 * maxReceiveCount receives, while succeeded records are deleted exactly once.
 */
class LocalEventSourceMappingTest {

    private static EmbeddedSqs sqs;
    private static SqsClient client;

    @BeforeAll
    static void startSqs() {
        sqs = EmbeddedSqs.start();
        client = sqs.newClient();
    }

    @AfterAll
    static void stopSqs() {
        client.close();
        sqs.close();
    }

    /** Fails "always-fails" every time and "fails-once" on its first delivery; records every call. */
    static final class ScriptedHandler implements RequestHandler<SQSEvent, SQSBatchResponse> {
        final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();
        final List<String> succeeded = new CopyOnWriteArrayList<>();
        final List<String> receiveCounts = new CopyOnWriteArrayList<>();

        @Override
        public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
            assertTrue(context.getRemainingTimeInMillis() > 0, "the invocation has a deadline");
            List<SQSBatchResponse.BatchItemFailure> failures = new ArrayList<>();
            for (SQSEvent.SQSMessage m : event.getRecords()) {
                assertTrue(m.getEventSourceArn().startsWith("arn:aws:sqs"), "records carry the queue ARN");
                int n = deliveries.computeIfAbsent(m.getBody(), k -> new AtomicInteger()).incrementAndGet();
                receiveCounts.add(m.getBody() + ":" + m.getAttributes().get("ApproximateReceiveCount"));
                boolean fail = m.getBody().equals("always-fails") || (m.getBody().equals("fails-once") && n == 1);
                if (fail) {
                    failures.add(new SQSBatchResponse.BatchItemFailure(m.getMessageId()));
                } else {
                    succeeded.add(m.getBody());
                }
            }
            return new SQSBatchResponse(failures);
        }
    }

    @Test
    void failingRecordLandsInDlqAfterMaxReceivesAndOnceFailingRecordIsProcessedOnce() throws Exception {
        // given a queue whose redrive policy allows 3 receives, with a 1 s visibility timeout
        EmbeddedSqs.QueuePair queues = sqs.createQueueWithDlq("esm-redrive", 3, Duration.ofSeconds(1));
        String arn = client.getQueueAttributes(b -> b.queueUrl(queues.queueUrl()).attributeNamesWithStrings("QueueArn"))
                .attributesAsStrings().get("QueueArn");
        for (String body : List.of("always-fails", "fails-once", "ok-1", "ok-2")) {
            client.sendMessage(b -> b.queueUrl(queues.queueUrl()).messageBody(body));
        }
        ScriptedHandler handler = new ScriptedHandler();

        // when the mapping polls until the poison record has moved to the DLQ
        List<Message> dead;
        try (LocalEventSourceMapping mapping = new LocalEventSourceMapping(client, queues.queueUrl(), arn, handler,
                new LocalEventSourceMapping.Settings(10, Duration.ofMillis(100), 2, Duration.ofSeconds(30)))) {
            mapping.start();
            dead = awaitDeadLetters(queues.dlqUrl(), Duration.ofSeconds(30));
        }

        // then
        assertEquals(List.of("always-fails"), bodies(dead), "only the always-failing record is dead-lettered");
        assertEquals(3, handler.deliveries.get("always-fails").get(), "delivered maxReceiveCount times");
        assertEquals(2, handler.deliveries.get("fails-once").get(), "failed once, redelivered once");
        assertEquals(List.of("fails-once", "ok-1", "ok-2"), handler.succeeded.stream().sorted().toList(),
                "each good record is processed exactly once");
        assertTrue(handler.receiveCounts.containsAll(List.of("fails-once:2", "always-fails:3")),
                "SQS counts receives: " + handler.receiveCounts);
        Map<String, String> depth = client.getQueueAttributes(b -> b.queueUrl(queues.queueUrl())
                        .attributeNamesWithStrings("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))
                .attributesAsStrings();
        assertEquals("0", depth.get("ApproximateNumberOfMessages"), "the jobs queue is empty");
        assertEquals("0", depth.get("ApproximateNumberOfMessagesNotVisible"), "nothing is in flight");
    }

    @Test
    void handlerThatThrowsFailsTheWholeBatch() throws Exception {
        EmbeddedSqs.QueuePair queues = sqs.createQueueWithDlq("esm-throws", 2, Duration.ofSeconds(1));
        client.sendMessage(b -> b.queueUrl(queues.queueUrl()).messageBody("a"));
        AtomicInteger calls = new AtomicInteger();
        RequestHandler<SQSEvent, SQSBatchResponse> throwing = (event, context) -> {
            calls.incrementAndGet();
            throw new IllegalStateException("handler crashed");
        };
        List<Message> dead;
        try (LocalEventSourceMapping mapping = new LocalEventSourceMapping(client, queues.queueUrl(), "arn:aws:sqs:local",
                throwing, new LocalEventSourceMapping.Settings(10, Duration.ZERO, 1, Duration.ofSeconds(30)))) {
            mapping.start();
            dead = awaitDeadLetters(queues.dlqUrl(), Duration.ofSeconds(30));
            assertEquals(0, mapping.deletedRecords(), "nothing is deleted when the handler throws");
        }
        assertEquals(List.of("a"), bodies(dead));
        assertEquals(2, calls.get(), "delivered maxReceiveCount times");
    }

    private static List<String> bodies(List<Message> messages) {
        return messages.stream().map(Message::body).toList();
    }

    private static List<Message> awaitDeadLetters(String dlqUrl, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<Message> found = client.receiveMessage(b -> b.queueUrl(dlqUrl).maxNumberOfMessages(10)
                    .visibilityTimeout(0).waitTimeSeconds(1)).messages();
            if (!found.isEmpty()) {
                Thread.sleep(1500); // let any stragglers arrive, then read again
                return client.receiveMessage(b -> b.queueUrl(dlqUrl).maxNumberOfMessages(10)
                        .visibilityTimeout(0).waitTimeSeconds(0)).messages();
            }
        }
        return List.of();
    }
}
