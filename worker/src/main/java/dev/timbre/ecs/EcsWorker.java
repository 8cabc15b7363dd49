package dev.timbre.ecs;

import dev.timbre.pipeline.BatchOutcome;
import dev.timbre.pipeline.BatchProcessor;
import dev.timbre.pipeline.Disposition;
import dev.timbre.pipeline.PipelineMetrics;
import dev.timbre.pipeline.QueueMessage;
import dev.timbre.pipeline.RecordOutcome;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;

/**
 * The long-running ECS host of the pipeline (the GPU variant): long-polls the jobs queue, runs each received
 * batch through the same {@link BatchProcessor} as the Lambda handler, deletes what succeeded
 * (DeleteMessageBatch) and leaves failures to reappear after their visibility timeout, as Lambda's event
 * source mapping would.
 *
 * <ul>
 *   <li><b>Heartbeat.</b> While a batch runs, its messages' visibility is extended every
 *       {@code heartbeatInterval} to {@code visibilityTimeout} from now, so a long job is never delivered to a
 *       second worker while it is still running.</li>
 *   <li><b>Shutdown</b> ({@link #shutdown}, called by the SIGTERM hook): no new polls; the batch in flight gets
 *       until the bound to finish; then the loop thread is interrupted, the batch reports its unfinished
 *       messages, which are released at once (visibility 0) so another worker takes them now instead of after
 *       the timeout. Jobs still running keep running until the JVM exits; their redelivery is harmless
 *       (the job row and the point id make every job idempotent).</li>
 *   <li><b>Health.</b> {@link #healthy()} reflects progress, not only liveness: it is false once a job has run
 *       longer than {@code maxBatchTime} (no batch waits for it that long, so a native call hangs and holds a
 *       worker thread for good), once a batch has not returned within {@code maxBatchTime} plus the poll bound, or
 *       once the idle loop has not polled within the poll bound ({@code 3 × pollWait + 30 s}); ECS then replaces
 *       the task. Also false while stopping.</li>
 * </ul>
 *
 * <p>Thread-safety: {@link #run()} on one thread (the loop); {@link #shutdown} and {@link #healthy()} from any.
 * Does not own the SQS client or the batch processor.
 */
public final class EcsWorker implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(EcsWorker.class);

    /**
     * @param maxMessages       per ReceiveMessage, 1..10
     * @param pollWait          long-poll wait, 0..20 s; also bounds how long a stop waits for an idle poll
     * @param visibilityTimeout what each received and heartbeated message is hidden for
     * @param heartbeatInterval how often visibility is extended while a batch runs (well under the timeout)
     * @param maxBatchTime      deadline of one batch; unfinished messages are then left for redelivery
     */
    public record Settings(int maxMessages, Duration pollWait, Duration visibilityTimeout, Duration heartbeatInterval,
                           Duration maxBatchTime) {
        public Settings {
            if (maxMessages < 1 || maxMessages > 10) {
                throw new IllegalArgumentException("maxMessages must be within 1..10, was " + maxMessages);
            }
            if (pollWait.isNegative() || pollWait.toSeconds() > 20) {
                throw new IllegalArgumentException("pollWait must be within 0..20 s, was " + pollWait);
            }
            if (heartbeatInterval.compareTo(visibilityTimeout) >= 0) {
                throw new IllegalArgumentException("heartbeatInterval (" + heartbeatInterval
                        + ") must be shorter than visibilityTimeout (" + visibilityTimeout + ")");
            }
        }

        /** Production defaults: 10 per poll, 10 s polls, 60 s visibility extended every 20 s, 15 min per batch. */
        public static Settings defaults() {
            return new Settings(10, Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(20),
                    Duration.ofMinutes(15));
        }
    }

    private final SqsClient sqs;
    private final String queueUrl;
    private final boolean fifo;
    private final BatchProcessor batches;
    private final PipelineMetrics metrics;
    private final Settings settings;
    private final Clock clock;
    private final ScheduledExecutorService heartbeats;

    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Thread loopThread;
    private volatile Instant batchStartedAt; // null between batches
    private volatile Instant lastPoll;

    public EcsWorker(SqsClient sqs, String queueUrl, BatchProcessor batches, PipelineMetrics metrics,
                     Settings settings, Clock clock) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.fifo = BatchProcessor.isFifo(queueUrl);
        this.batches = batches;
        this.metrics = metrics;
        this.settings = settings;
        this.clock = clock;
        this.lastPoll = clock.instant();
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "timbre-visibility-heartbeat");
            t.setDaemon(true);
            return t;
        });
    }

    /** The poll loop; returns after {@link #shutdown} (or an interrupt of this thread before a poll). */
    @Override
    public void run() {
        loopThread = Thread.currentThread();
        log.atInfo().addKeyValue("queue_url", queueUrl).addKeyValue("fifo", fifo).log("ECS worker polling");
        try {
            while (!stopping.get()) {
                try {
                    pollOnce();
                } catch (SdkException e) {
                    if (stopping.get()) {
                        break;
                    }
                    // The queue is unreachable: keep trying, without a hot loop.
                    log.atWarn().log("polling failed, retrying in 1 s: {}", e.getMessage());
                    pause(Duration.ofSeconds(1));
                } catch (RuntimeException e) {
                    log.atError().setCause(e).log("unexpected error in the poll loop, continuing in 1 s");
                    pause(Duration.ofSeconds(1));
                }
            }
        } finally {
            heartbeats.shutdownNow();
            Thread.interrupted(); // an interrupt meant "stop": it has been honoured
            stopped.countDown();
            log.info("ECS worker stopped");
        }
    }

    /** One receive and, if anything came, one batch. Package-private for tests. */
    void pollOnce() {
        List<Message> received = sqs.receiveMessage(ReceiveMessageRequest.builder()
                .queueUrl(queueUrl)
                .maxNumberOfMessages(settings.maxMessages())
                .waitTimeSeconds((int) settings.pollWait().toSeconds())
                .visibilityTimeout((int) settings.visibilityTimeout().toSeconds())
                .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT,
                        MessageSystemAttributeName.SENT_TIMESTAMP, MessageSystemAttributeName.MESSAGE_GROUP_ID)
                .build()).messages();
        lastPoll = clock.instant();
        if (received.isEmpty()) {
            return;
        }
        Map<String, String> receipts = new LinkedHashMap<>();
        List<QueueMessage> messages = new ArrayList<>(received.size());
        for (Message m : received) {
            receipts.put(m.messageId(), m.receiptHandle());
            messages.add(toQueueMessage(m));
        }
        if (stopping.get()) {
            // Received while stopping: hand them straight back.
            release(receipts, List.copyOf(receipts.keySet()));
            return;
        }

        batchStartedAt = clock.instant();
        ScheduledFuture<?> heartbeat = heartbeats.scheduleAtFixedRate(() -> extendVisibility(receipts),
                settings.heartbeatInterval().toMillis(), settings.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS);
        BatchOutcome outcome;
        try {
            outcome = batches.process(messages, fifo, clock.instant().plus(settings.maxBatchTime()));
        } finally {
            heartbeat.cancel(false);
            batchStartedAt = null;
        }
        Thread.interrupted(); // a shutdown interrupt ended the batch early; the SQS calls below must still run
        metrics.flush();

        delete(receipts, outcome.acknowledgedMessageIds());
        List<String> unfinished = outcome.outcomes().stream()
                .filter(o -> o.disposition() == Disposition.NOT_FINISHED
                        || o.disposition() == Disposition.SKIPPED_AFTER_GROUP_FAILURE && stopping.get())
                .map(RecordOutcome::messageId).toList();
        if (!unfinished.isEmpty()) {
            // Not attempted or cut off: nothing to back off from, let another worker (or the next poll) take them.
            release(receipts, unfinished);
        }
    }

    private static QueueMessage toQueueMessage(Message m) {
        Map<MessageSystemAttributeName, String> attributes = m.attributes();
        return new QueueMessage(m.messageId(), m.body(),
                QueueMessage.parseReceiveCount(attributes.get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)),
                Optional.ofNullable(attributes.get(MessageSystemAttributeName.MESSAGE_GROUP_ID)),
                QueueMessage.parseSentTimestamp(attributes.get(MessageSystemAttributeName.SENT_TIMESTAMP)));
    }

    private void extendVisibility(Map<String, String> receipts) {
        try {
            changeVisibility(receipts, List.copyOf(receipts.keySet()), (int) settings.visibilityTimeout().toSeconds());
        } catch (RuntimeException e) {
            // Next beat tries again; at worst a message is delivered twice, which the job row makes harmless.
            log.atWarn().log("visibility heartbeat failed: {}", e.getMessage());
        }
    }

    private void release(Map<String, String> receipts, List<String> messageIds) {
        try {
            changeVisibility(receipts, messageIds, 0);
            log.atInfo().addKeyValue("count", messageIds.size()).log("released unfinished messages");
        } catch (RuntimeException e) {
            log.atWarn().log("could not release messages; they reappear after their visibility timeout: {}",
                    e.getMessage());
        }
    }

    private void changeVisibility(Map<String, String> receipts, List<String> messageIds, int seconds) {
        forEachChunk(messageIds, (chunk, base) -> {
            List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>();
            for (int i = 0; i < chunk.size(); i++) {
                entries.add(ChangeMessageVisibilityBatchRequestEntry.builder().id("m" + (base + i))
                        .receiptHandle(receipts.get(chunk.get(i))).visibilityTimeout(seconds).build());
            }
            sqs.changeMessageVisibilityBatch(b -> b.queueUrl(queueUrl).entries(entries));
            return null;
        });
    }

    private void delete(Map<String, String> receipts, List<String> messageIds) {
        if (messageIds.isEmpty()) {
            return;
        }
        try {
            forEachChunk(messageIds, (chunk, base) -> {
                List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
                for (int i = 0; i < chunk.size(); i++) {
                    entries.add(DeleteMessageBatchRequestEntry.builder().id("m" + (base + i))
                            .receiptHandle(receipts.get(chunk.get(i))).build());
                }
                DeleteMessageBatchResponse response = sqs.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
                if (response.hasFailed() && !response.failed().isEmpty()) {
                    // They come back after the timeout and are acknowledged then as duplicates.
                    log.atWarn().addKeyValue("count", response.failed().size())
                            .log("some deletes failed: {}", response.failed().get(0).message());
                }
                return null;
            });
        } catch (SdkException e) {
            log.atWarn().log("deleting processed messages failed; they will be redelivered as duplicates: {}",
                    e.getMessage());
        }
    }

    /** SQS batch calls take at most 10 entries. */
    private static void forEachChunk(List<String> ids, BiFunction<List<String>, Integer, Void> call) {
        for (int from = 0; from < ids.size(); from += 10) {
            call.apply(ids.subList(from, Math.min(ids.size(), from + 10)), from);
        }
    }

    private void pause(Duration d) {
        try {
            stopped.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping.set(true);
        }
    }

    /**
     * Stops polling and waits for the loop to end: up to {@code bound} for the batch in flight to finish on its
     * own, then interrupts it so it reports (and releases) what is unfinished, then waits a little more for the
     * deletes and releases. Returns true if the loop ended in time.
     */
    public boolean shutdown(Duration bound) {
        if (stopping.compareAndSet(false, true)) {
            log.atInfo().addKeyValue("bound_ms", bound.toMillis()).log("ECS worker stopping");
        }
        try {
            if (stopped.await(bound.toMillis(), TimeUnit.MILLISECONDS)) {
                return true;
            }
            Thread loop = loopThread;
            if (loop != null) {
                loop.interrupt();
            }
            return stopped.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** For {@code /healthz}; see the class comment for the bounds. */
    public boolean healthy() {
        if (stopping.get() || stopped.getCount() == 0 || loopThread == null) {
            return false;
        }
        Instant now = clock.instant();
        Optional<Instant> oldestJob = batches.oldestRunningStart();
        if (oldestJob.isPresent() && Duration.between(oldestJob.get(), now).compareTo(settings.maxBatchTime()) > 0) {
            return false;
        }
        Duration pollBound = settings.pollWait().multipliedBy(3).plusSeconds(30);
        Instant batchStart = batchStartedAt;
        if (batchStart != null) {
            return Duration.between(batchStart, now).compareTo(settings.maxBatchTime().plus(pollBound)) < 0;
        }
        return Duration.between(lastPoll, now).compareTo(pollBound) < 0;
    }
}
