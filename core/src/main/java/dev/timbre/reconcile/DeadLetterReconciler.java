package dev.timbre.reconcile;

import dev.timbre.job.JobMessage;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.job.JobStore;
import dev.timbre.job.PoisonMessageException;
import dev.timbre.store.EmbeddingStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;

/**
 * The operator path that finishes jobs whose messages reached the DLQ with their row still open ({@code ./timbre
 * reconcile}, docs/operations.md). A row stays PENDING or PROCESSING with its message in the DLQ when the last
 * receive could not record a verdict: the database was down for every receive, or a job that had started was still
 * running at the deadline of its last receive and its container was then frozen or reaped. Nothing in the pipeline
 * can finish such a row (the DLQ has no consumer), so this reads the DLQ and, per message:
 * <ul>
 *   <li>poison (not a job message): kept, for the operator to read;</li>
 *   <li>no job row: the message is deleted (nothing to finish);</li>
 *   <li>row COMPLETED (and not deleted): the message is a stale copy (the job finished after all) and is deleted;</li>
 *   <li>row deleted: the row is marked FAILED (as the pipeline would), its point removed, the message deleted;</li>
 *   <li>row open (PENDING, PROCESSING) or FAILED: with {@link Mode#REQUEUE} the message is sent back to the jobs
 *       queue (the job runs again with all its receives) and deleted from the DLQ; with {@link Mode#FAIL} an open row
 *       becomes FAILED "abandoned after its message reached the DLQ: last error", the point of the job (if any) is
 *       removed, and the message is deleted.</li>
 * </ul>
 * Each step is ordered so that an interruption loses nothing: the row (or the requeued copy) is written before the
 * DLQ message is deleted, so a message whose handling failed stays in the DLQ and is handled by the next run. Points
 * are removed under the row's lock ({@link JobStore#lockedIfFailedOrGone}), so a job that is still running somewhere
 * and completes later cannot lose its point; if it completes after its row was failed here, it finds the row FAILED
 * and removes its own point.
 *
 * <p>Not thread-safe; one run at a time per DLQ is the intended use (two runs would do each step twice, harmlessly).
 */
public final class DeadLetterReconciler {

    private static final Logger log = LoggerFactory.getLogger(DeadLetterReconciler.class);

    /** What to do with a job whose row is still open. */
    public enum Mode {
        /** Mark the row FAILED and delete the message. */
        FAIL,
        /** Send the message back to the jobs queue, then delete it from the DLQ. */
        REQUEUE,
        /** Change nothing; report what {@link #FAIL} would do. */
        DRY_RUN
    }

    /** What happened to one DLQ message. */
    public enum Action {
        /** Poison: left in the DLQ. */
        KEPT_POISON,
        /** No job row: deleted. */
        DELETED_NO_ROW,
        /** The row was already COMPLETED or FAILED: the message was deleted (a FAILED row's point removed). */
        DELETED_FINISHED,
        /** The row was open or deleted and is FAILED now; the message was deleted. */
        FAILED,
        /** Sent back to the jobs queue and deleted from the DLQ. */
        REQUEUED,
        /** Dry run: left as it was. */
        NONE
    }

    /**
     * One message handled.
     *
     * @param rowStatus the row's status before, empty when the message is poison or has no row
     * @param would     in a dry run, the action a {@link Mode#FAIL} run would take; otherwise equal to {@code action}
     */
    public record Result(String messageId, Optional<UUID> jobId, Optional<String> rowStatus, boolean rowDeleted,
                         Action action, Action would) {
    }

    private final SqsClient sqs;
    private final String dlqUrl;
    private final Optional<String> jobsQueueUrl;
    private final JobStore jobs;
    private final EmbeddingStore embeddings;
    private final JobMessageParser parser;
    private final Duration visibility;

    /**
     * @param jobsQueueUrl where {@link Mode#REQUEUE} sends messages back (required for that mode only)
     * @param visibility   how long each message read stays hidden from other readers while it is handled; kept
     *                     messages are made visible again at the end
     */
    public DeadLetterReconciler(SqsClient sqs, String dlqUrl, Optional<String> jobsQueueUrl, JobStore jobs,
                                EmbeddingStore embeddings, JobMessageParser parser, Duration visibility) {
        this.sqs = Objects.requireNonNull(sqs, "sqs");
        this.dlqUrl = Objects.requireNonNull(dlqUrl, "dlqUrl");
        this.jobsQueueUrl = Objects.requireNonNull(jobsQueueUrl, "jobsQueueUrl");
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.embeddings = Objects.requireNonNull(embeddings, "embeddings");
        this.parser = Objects.requireNonNull(parser, "parser");
        this.visibility = Objects.requireNonNull(visibility, "visibility");
    }

    /**
     * Handles every message in the DLQ once, reporting each to {@code each} as it goes.
     *
     * @throws IllegalArgumentException for {@link Mode#REQUEUE} without a jobs queue URL
     * @throws RuntimeException         when the DLQ, the database or the store fails; messages handled so far stay
     *                                  handled, the rest stay in the DLQ
     */
    public List<Result> run(Mode mode, Consumer<Result> each) {
        if (mode == Mode.REQUEUE && jobsQueueUrl.isEmpty()) {
            throw new IllegalArgumentException("requeueing needs the jobs queue URL (TIMBRE_QUEUE_URL)");
        }
        List<Result> results = new ArrayList<>();
        Map<String, String> kept = new LinkedHashMap<>(); // message id → receipt handle, made visible again at the end
        try {
            while (true) {
                List<Message> batch = sqs.receiveMessage(b -> b.queueUrl(dlqUrl).maxNumberOfMessages(10)
                        .waitTimeSeconds(1).visibilityTimeout((int) Math.max(1, visibility.toSeconds()))
                        .messageSystemAttributeNames(MessageSystemAttributeName.MESSAGE_GROUP_ID)).messages();
                if (batch.isEmpty()) {
                    return results;
                }
                for (Message m : batch) {
                    if (kept.containsKey(m.messageId())) {
                        continue; // seen already: its visibility ran out during a long run
                    }
                    Result r = handle(m, mode);
                    if (r.action() == Action.KEPT_POISON || r.action() == Action.NONE) {
                        kept.put(m.messageId(), m.receiptHandle());
                    }
                    results.add(r);
                    each.accept(r);
                }
            }
        } finally {
            release(kept);
        }
    }

    private Result handle(Message m, Mode mode) {
        JobMessage job;
        try {
            job = parser.parse(m.body());
        } catch (PoisonMessageException e) {
            return new Result(m.messageId(), Optional.empty(), Optional.empty(), false, Action.KEPT_POISON,
                    Action.KEPT_POISON);
        }
        UUID id = job.jobId();
        Optional<JobRecord> found = jobs.find(id);
        if (found.isEmpty()) {
            return finish(m, mode, id, null, Action.DELETED_NO_ROW, () -> { });
        }
        JobRecord row = found.get();
        if (row.deleted()) {
            return finish(m, mode, id, row, Action.FAILED,
                    () -> markFailed(id, "job " + id + " does not exist or was deleted"));
        }
        if (row.status() == JobStatus.COMPLETED) {
            return finish(m, mode, id, row, Action.DELETED_FINISHED, () -> { });
        }
        if (mode == Mode.REQUEUE) {
            return finish(m, mode, id, row, Action.REQUEUED, () -> requeue(m));
        }
        if (row.status() == JobStatus.FAILED) {
            return finish(m, mode, id, row, Action.DELETED_FINISHED, () -> dropPointIfFailedOrGone(id));
        }
        String lastError = row.error() == null ? "no error was noted" : "last error: " + row.error();
        return finish(m, mode, id, row, Action.FAILED,
                () -> markFailed(id, "abandoned after its message reached the DLQ (./timbre reconcile); " + lastError));
    }

    /** Runs the step, then deletes the message: a step that throws leaves the message in the DLQ. */
    private Result finish(Message m, Mode mode, UUID id, JobRecord row, Action action, Runnable step) {
        Optional<String> status = Optional.ofNullable(row).map(r -> r.status().name());
        boolean deleted = row != null && row.deleted();
        if (mode == Mode.DRY_RUN) {
            return new Result(m.messageId(), Optional.of(id), status, deleted, Action.NONE, action);
        }
        step.run();
        sqs.deleteMessage(b -> b.queueUrl(dlqUrl).receiptHandle(m.receiptHandle()));
        log.atInfo().addKeyValue("job_id", id).addKeyValue("message_id", m.messageId())
                .addKeyValue("row_status", status.orElse("none")).addKeyValue("action", action)
                .log("dead-lettered job reconciled");
        return new Result(m.messageId(), Optional.of(id), status, deleted, action, action);
    }

    private void markFailed(UUID id, String error) {
        jobs.fail(id, error);
        dropPointIfFailedOrGone(id);
    }

    private void dropPointIfFailedOrGone(UUID id) {
        jobs.lockedIfFailedOrGone(id, () -> embeddings.delete(id));
    }

    private void requeue(Message m) {
        String queueUrl = jobsQueueUrl.orElseThrow();
        SendMessageRequest.Builder send = SendMessageRequest.builder().queueUrl(queueUrl).messageBody(m.body());
        if (queueUrl.endsWith(".fifo")) {
            // A FIFO queue needs a group (the original one keeps the job's ordering) and a deduplication id
            send.messageGroupId(m.attributes().getOrDefault(MessageSystemAttributeName.MESSAGE_GROUP_ID, "reconcile"))
                    .messageDeduplicationId("reconcile-" + m.messageId());
        }
        sqs.sendMessage(send.build());
    }

    private void release(Map<String, String> kept) {
        for (String receipt : kept.values()) {
            try {
                sqs.changeMessageVisibility(b -> b.queueUrl(dlqUrl).receiptHandle(receipt).visibilityTimeout(0));
            } catch (RuntimeException e) {
                // It becomes visible again when its visibility timeout ends: nothing is lost
                log.atWarn().log("could not make a kept DLQ message visible again: {}", e.getMessage());
            }
        }
    }
}
