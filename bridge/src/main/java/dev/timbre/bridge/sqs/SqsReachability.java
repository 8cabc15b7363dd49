package dev.timbre.bridge.sqs;

import java.net.URI;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Whether SQS answered lately: every {@code SendMessageBatch} outcome updates it, and {@link #probeIfIdle()} asks
 * the queue for one attribute when nothing was sent for a while, so {@code /healthz} is honest on a quiet bridge.
 *
 * <p>Thread-safe.
 */
public final class SqsReachability {

    private static final long IDLE_NANOS = 5_000_000_000L;

    private final SqsClient client;
    private final URI queueUrl;
    private volatile boolean reachable;
    private volatile long lastAnswerNanos = System.nanoTime() - IDLE_NANOS;

    public SqsReachability(SqsClient client, URI queueUrl) {
        this.client = client;
        this.queueUrl = queueUrl;
    }

    public boolean reachable() {
        return reachable;
    }

    /** SQS answered (any answer that is not an outage: success or a per-entry refusal). */
    public void answered() {
        reachable = true;
        lastAnswerNanos = System.nanoTime();
    }

    /** A request failed transiently: network, 5xx, throttling, permissions. */
    public void failed() {
        reachable = false;
    }

    /** Asks SQS for the queue's ARN unless a send succeeded in the last 5 s. Never throws. */
    public void probeIfIdle() {
        if (reachable && System.nanoTime() - lastAnswerNanos < IDLE_NANOS) {
            return;
        }
        try {
            client.getQueueAttributes(b -> b.queueUrl(queueUrl.toString()).attributeNames(QueueAttributeName.QUEUE_ARN));
            answered();
        } catch (RuntimeException e) {
            failed();
        }
    }
}
