package dev.timbre.bridge.sqs;

import dev.timbre.bridge.forward.OutboundBatch;
import dev.timbre.bridge.forward.OutboundEntry;
import dev.timbre.bridge.ops.BridgeMetrics;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

/**
 * Sends one batch until every entry is settled: acknowledged when SQS accepted it, dead-lettered when SQS refused it
 * for the sender's fault, retried (only the failed entries, with backoff and jitter) otherwise.
 *
 * <p>Each entry's outcome is read from the response even on HTTP 200, because {@code SendMessageBatch} reports
 * per-entry failures in {@code Failed} (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html).
 * A request refused as a whole because of its content is split in halves until the culprit is alone.
 *
 * <p>Thread-safe: {@link #send} runs on several sender threads at once (the SDK client is thread-safe). It blocks
 * while it retries; that is the back-pressure which stops the batcher, and through the prefetch the broker.
 * Interrupting the thread abandons the batch: its unsettled messages stay unacked and the broker redelivers them.
 */
public final class SqsBatchSender {

    private static final Logger log = LoggerFactory.getLogger(SqsBatchSender.class);

    private final SqsClient client;
    private final String queueUrl;
    private final Backoff backoff;
    private final SqsReachability reachability;
    private final BridgeMetrics metrics;

    public SqsBatchSender(SqsClient client, URI queueUrl, Backoff backoff, SqsReachability reachability,
                          BridgeMetrics metrics) {
        this.client = client;
        this.queueUrl = queueUrl.toString();
        this.backoff = backoff;
        this.reachability = reachability;
        this.metrics = metrics;
    }

    /** Sends the batch and settles every entry, unless the thread is interrupted (see class comment). */
    public void send(OutboundBatch batch) {
        metrics.batchStarted();
        try {
            Deque<List<OutboundEntry>> work = new ArrayDeque<>();
            work.push(batch.entries());
            int attempt = 0;
            while (!work.isEmpty()) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                List<OutboundEntry> retry = attempt(work.pop(), work);
                if (retry.isEmpty()) {
                    attempt = 0;
                    continue;
                }
                attempt++;
                metrics.retried(retry.size());
                Duration delay = backoff.delay(attempt);
                if (attempt == 1 || attempt % 10 == 0) {
                    log.warn("SQS did not take {} entries (attempt {}); retrying in {} ms",
                            retry.size(), attempt, delay.toMillis());
                }
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                work.push(retry);
            }
        } finally {
            metrics.batchFinished();
        }
    }

    /** One request; returns the entries to retry, pushes split halves onto {@code work}. */
    private List<OutboundEntry> attempt(List<OutboundEntry> all, Deque<List<OutboundEntry>> work) {
        // Entries whose channel was lost while they waited are back in RabbitMQ already: do not duplicate them.
        List<OutboundEntry> pending = new ArrayList<>(all.size());
        for (OutboundEntry e : all) {
            if (e.delivery().settler().stale()) {
                e.delivery().settler().abandon();
            } else {
                pending.add(e);
            }
        }
        if (pending.isEmpty()) {
            return List.of();
        }
        List<SendMessageBatchRequestEntry> requestEntries = new ArrayList<>(pending.size());
        int bytes = 0;
        for (int i = 0; i < pending.size(); i++) {
            OutboundEntry e = pending.get(i);
            bytes += e.sizeBytes();
            SendMessageBatchRequestEntry.Builder b = SendMessageBatchRequestEntry.builder()
                    .id(Integer.toString(i)) // ids only need to be unique within the request
                    .messageBody(e.body())
                    .messageAttributes(e.attributes());
            e.groupId().ifPresent(b::messageGroupId);
            e.deduplicationId().ifPresent(b::messageDeduplicationId);
            requestEntries.add(b.build());
        }
        long start = System.nanoTime();
        SendMessageBatchResponse response;
        try {
            response = client.sendMessageBatch(r -> r.queueUrl(queueUrl).entries(requestEntries));
        } catch (SdkException e) {
            metrics.requestFailed();
            if (SqsFailure.of(e) == SqsFailure.CONTENT) {
                reachability.answered();
                if (pending.size() == 1) {
                    deadLetter(pending.get(0), errorCode(e), "SQS refused the message: " + SqsFailure.describe(e));
                } else {
                    int half = pending.size() / 2;
                    work.push(pending.subList(half, pending.size()));
                    work.push(pending.subList(0, half));
                }
                return List.of();
            }
            reachability.failed();
            log.debug("SendMessageBatch failed: {}", SqsFailure.describe(e));
            metrics.failedEntries("transient", pending.size());
            return pending;
        } catch (RuntimeException unexpected) {
            // Not an SDK outcome (a bug, a broken interceptor): keep the messages, try again later.
            metrics.requestFailed();
            log.error("SendMessageBatch threw unexpectedly; retrying its {} entries", pending.size(), unexpected);
            return pending;
        }
        reachability.answered();
        metrics.batchSent(pending.size(), bytes, System.nanoTime() - start);
        for (SendMessageBatchResultEntry ok : response.successful()) {
            OutboundEntry e = pending.get(Integer.parseInt(ok.id()));
            e.delivery().settler().ack();
            metrics.forwarded(e.delivery().receivedNanos());
        }
        List<OutboundEntry> retry = new ArrayList<>();
        for (BatchResultErrorEntry failed : response.failed()) {
            OutboundEntry e = pending.get(Integer.parseInt(failed.id()));
            if (Boolean.TRUE.equals(failed.senderFault())) {
                metrics.failedEntries("sender", 1);
                deadLetter(e, failed.code(), "SQS refused the message: " + failed.code() + ": " + failed.message());
            } else {
                metrics.failedEntries("transient", 1);
                retry.add(e);
            }
        }
        int accounted = response.successful().size() + response.failed().size();
        if (accounted < pending.size()) {
            // An entry missing from both lists has an unknown fate: sending it again is the at-least-once choice.
            log.warn("SendMessageBatch answered for {} of {} entries; resending the rest", accounted, pending.size());
            boolean[] seen = new boolean[pending.size()];
            response.successful().forEach(s -> seen[Integer.parseInt(s.id())] = true);
            response.failed().forEach(f -> seen[Integer.parseInt(f.id())] = true);
            for (int i = 0; i < seen.length; i++) {
                if (!seen[i]) {
                    retry.add(pending.get(i));
                }
            }
        }
        return retry;
    }

    private static void deadLetter(OutboundEntry e, String code, String reason) {
        log.warn("dead-lettering message {}: {}", e.delivery().properties().getMessageId(), reason);
        e.delivery().settler().deadLetter(code, reason);
    }

    private static String errorCode(SdkException e) {
        if (e instanceof software.amazon.awssdk.services.sqs.model.SqsException s && s.awsErrorDetails() != null) {
            return s.awsErrorDetails().errorCode();
        }
        return "SenderFault";
    }
}
