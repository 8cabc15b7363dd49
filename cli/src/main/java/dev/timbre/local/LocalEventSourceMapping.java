package dev.timbre.local;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;

/**
 * Behaves like Lambda's SQS trigger, for local runs and tests: up to {@code maxConcurrency} pollers each gather
 * a batch (up to {@code batchSize} records, or what arrived within {@code batchingWindow}), invoke the handler
 * with a real {@link SQSEvent} and a {@link LocalContext} carrying the function timeout, then delete every
 * record not named in {@code batchItemFailures}. Failed records are left alone: they reappear after the
 * queue's visibility timeout and the queue's own redrive policy moves them to the DLQ after
 * {@code maxReceiveCount} receives, exactly as in AWS. A handler that throws fails the whole batch, as in AWS.
 *
 * <p>Thread-safety: {@link #start()} and {@link #close()} from one owner thread; counters may be read from any.
 */
public final class LocalEventSourceMapping implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalEventSourceMapping.class);

    /**
     * @param batchSize       records per invocation, 1..10 (one ReceiveMessage call returns at most 10)
     * @param batchingWindow  how long to keep gathering a partial batch
     * @param maxConcurrency  concurrent invocations
     * @param functionTimeout the deadline each invocation gets
     */
    public record Settings(int batchSize, Duration batchingWindow, int maxConcurrency, Duration functionTimeout) {
        public Settings {
            if (batchSize < 1 || batchSize > 10) {
                throw new IllegalArgumentException("batchSize must be within 1..10, was " + batchSize);
            }
            if (maxConcurrency < 1) {
                throw new IllegalArgumentException("maxConcurrency must be at least 1, was " + maxConcurrency);
            }
        }
    }

    private final SqsClient sqs;
    private final String queueUrl;
    private final String queueArn;
    private final RequestHandler<SQSEvent, SQSBatchResponse> handler;
    private final Settings settings;
    private final ExecutorService pollers;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong invocations = new AtomicLong();
    private final AtomicLong deleted = new AtomicLong();
    private final AtomicLong failedRecords = new AtomicLong();

    public LocalEventSourceMapping(SqsClient sqs, String queueUrl, String queueArn,
                                   RequestHandler<SQSEvent, SQSBatchResponse> handler, Settings settings) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.queueArn = queueArn;
        this.handler = handler;
        this.settings = settings;
        this.pollers = Executors.newFixedThreadPool(settings.maxConcurrency(), r -> {
            Thread t = new Thread(r, "esm-poller");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        if (!running.compareAndSet(false, true)) {
            throw new IllegalStateException("already started");
        }
        for (int i = 0; i < settings.maxConcurrency(); i++) {
            pollers.submit(this::pollLoop);
        }
    }

    public long invocations() {
        return invocations.get();
    }

    public long deletedRecords() {
        return deleted.get();
    }

    public long failedRecords() {
        return failedRecords.get();
    }

    private void pollLoop() {
        while (running.get()) {
            try {
                List<Message> batch = gather();
                if (!batch.isEmpty()) {
                    invoke(batch);
                }
            } catch (RuntimeException e) {
                if (running.get()) {
                    log.warn("event source mapping: poll failed, retrying: {}", e.toString());
                    sleepQuietly(500);
                }
            }
        }
    }

    private List<Message> gather() {
        List<Message> batch = new ArrayList<>();
        long windowEnd = System.nanoTime() + settings.batchingWindow().toNanos();
        do {
            int want = settings.batchSize() - batch.size();
            long waitSeconds = batch.isEmpty() ? 1 : 0;
            batch.addAll(sqs.receiveMessage(ReceiveMessageRequest.builder()
                    .queueUrl(queueUrl)
                    .maxNumberOfMessages(want)
                    .waitTimeSeconds((int) waitSeconds)
                    .messageSystemAttributeNames(MessageSystemAttributeName.ALL)
                    .messageAttributeNames("All")
                    .build()).messages());
        } while (running.get() && !batch.isEmpty() && batch.size() < settings.batchSize()
                && System.nanoTime() < windowEnd);
        return batch;
    }

    private void invoke(List<Message> batch) {
        invocations.incrementAndGet();
        SQSEvent event = toEvent(batch);
        Set<String> failed = new HashSet<>();
        try {
            SQSBatchResponse response = handler.handleRequest(event,
                    new LocalContext("VoiceEmbeddingFunction", settings.functionTimeout().toMillis(), 2048));
            if (response != null && response.getBatchItemFailures() != null) {
                response.getBatchItemFailures().forEach(f -> failed.add(f.getItemIdentifier()));
            }
        } catch (RuntimeException e) {
            log.warn("event source mapping: handler threw, the whole batch of {} will be retried: {}",
                    batch.size(), e.toString());
            batch.forEach(m -> failed.add(m.messageId()));
        }
        List<DeleteMessageBatchRequestEntry> toDelete = new ArrayList<>();
        for (Message m : batch) {
            if (!failed.contains(m.messageId())) {
                toDelete.add(DeleteMessageBatchRequestEntry.builder()
                        .id(Integer.toString(toDelete.size())).receiptHandle(m.receiptHandle()).build());
            }
        }
        if (!toDelete.isEmpty()) {
            var result = sqs.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(toDelete));
            deleted.addAndGet(result.successful().size());
            result.failed().forEach(f -> log.warn("event source mapping: delete failed: {}", f.message()));
        }
        failedRecords.addAndGet(failed.size());
    }

    private SQSEvent toEvent(List<Message> batch) {
        List<SQSEvent.SQSMessage> records = new ArrayList<>();
        for (Message m : batch) {
            SQSEvent.SQSMessage r = new SQSEvent.SQSMessage();
            r.setMessageId(m.messageId());
            r.setReceiptHandle(m.receiptHandle());
            r.setBody(m.body());
            r.setMd5OfBody(m.md5OfBody());
            r.setMd5OfMessageAttributes(m.md5OfMessageAttributes());
            r.setEventSource("aws:sqs");
            r.setEventSourceArn(queueArn);
            r.setAwsRegion("us-east-1");
            Map<String, String> attributes = new HashMap<>();
            m.attributes().forEach((k, v) -> attributes.put(k.toString(), v));
            r.setAttributes(attributes);
            Map<String, SQSEvent.MessageAttribute> messageAttributes = new HashMap<>();
            m.messageAttributes().forEach((k, v) -> messageAttributes.put(k, toEventAttribute(v)));
            r.setMessageAttributes(messageAttributes);
            records.add(r);
        }
        SQSEvent event = new SQSEvent();
        event.setRecords(records);
        return event;
    }

    private static SQSEvent.MessageAttribute toEventAttribute(MessageAttributeValue v) {
        SQSEvent.MessageAttribute a = new SQSEvent.MessageAttribute();
        a.setDataType(v.dataType());
        a.setStringValue(v.stringValue());
        if (v.binaryValue() != null) {
            a.setBinaryValue(v.binaryValue().asByteBuffer());
        }
        return a;
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops polling and waits for in-flight invocations to finish (bounded by the function timeout). */
    @Override
    public void close() {
        running.set(false);
        pollers.shutdown();
        try {
            if (!pollers.awaitTermination(settings.functionTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS)) {
                pollers.shutdownNow();
            }
        } catch (InterruptedException e) {
            pollers.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
