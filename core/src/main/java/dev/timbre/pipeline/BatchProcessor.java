package dev.timbre.pipeline;

import dev.timbre.job.JobMessage;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.PoisonMessageException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs one batch of delivered messages on the {@link WorkerPool} and says, per message, whether it is
 * acknowledged or must be delivered again (docs/architecture.md §6). Shared by every host: the Lambda handler, the ECS worker
 * and the local runner differ only in how messages arrive and are deleted.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>Each message is its own future; outcomes are read from the futures in delivery order, never collected
 *       into a shared list from worker threads (the Powertools parallel handler lost failures that way).</li>
 *   <li>Poison (not a valid job message): sent to the DLQ with the reason, then acknowledged. If the DLQ does
 *       not accept it, the message is reported as a failure so that nothing is lost.</li>
 *   <li>Deadline: a message not finished by {@code deadline} is reported {@link Disposition#NOT_FINISHED}. One
 *       not yet started is never started; one already running is <em>not</em> interrupted (interrupting JDBC,
 *       S3 or native inference mid-call leaves worse state) and may still complete after the batch returned;
 *       that is harmless: its redelivery finds the job COMPLETED and is acknowledged as a duplicate, and the
 *       point id is the job id, so the point is overwritten, never duplicated.</li>
 *   <li>FIFO (the event source ARN or queue URL ends with {@code .fifo}): messages of one group run one after
 *       another in delivery order, different groups in parallel. A group stops at its first failure and its
 *       remaining messages are reported {@link Disposition#SKIPPED_AFTER_GROUP_FAILURE}, so SQS delivers them
 *       again in order (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).</li>
 * </ul>
 *
 * <p>Thread-safe; one instance serves every invocation of a container. Never throws for a message's failure.
 */
public final class BatchProcessor {

    private static final Logger log = LoggerFactory.getLogger(BatchProcessor.class);

    private final WorkerPool pool;
    private final JobMessageParser parser;
    private final JobProcessor jobs;
    private final DeadLetterQueue deadLetters;
    private final PipelineMetrics metrics;
    private final Clock clock;
    // Start of every record running now, keyed by a token per run (a message may be received twice). A job that
    // outlives its batch's deadline keeps running on its thread; this is how health still sees it.
    private final Map<Object, Instant> running = new ConcurrentHashMap<>();

    public BatchProcessor(WorkerPool pool, JobMessageParser parser, JobProcessor jobs, DeadLetterQueue deadLetters,
                          PipelineMetrics metrics, Clock clock) {
        this.pool = pool;
        this.parser = parser;
        this.jobs = jobs;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** When the longest-running record still running started (a hung native call shows here), if any runs. */
    public Optional<Instant> oldestRunningStart() {
        return running.values().stream().min(Instant::compareTo);
    }

    /** True for a FIFO queue's ARN or URL. */
    public static boolean isFifo(String queueArnOrUrl) {
        return queueArnOrUrl != null && queueArnOrUrl.endsWith(".fifo");
    }

    /**
     * Processes the batch and waits for it until {@code deadline}.
     *
     * @param messages the batch, in delivery order
     * @param fifo     whether it comes from a FIFO queue
     * @param deadline when unfinished messages are given up on and reported for redelivery
     * @return one outcome per message, in delivery order
     */
    public BatchOutcome process(List<QueueMessage> messages, boolean fifo, Instant deadline) {
        if (messages.isEmpty()) {
            return new BatchOutcome(List.of());
        }
        metrics.batchSize(messages.size());
        Instant now = clock.instant();
        for (QueueMessage m : messages) {
            m.sentAt().ifPresent(sent -> metrics.queueAge(Duration.between(sent, now).toMillis()));
        }

        // An invocation that arrives with no time left (its remaining time already inside the margin) starts nothing:
        // each record is handed back unstarted, instead of racing a free thread that would take it up at once.
        AtomicBoolean expired = new AtomicBoolean(!now.isBefore(deadline));
        Set<String> started = ConcurrentHashMap.newKeySet();
        Set<String> crashed = ConcurrentHashMap.newKeySet();
        // Its own lane of the shared pool: concurrent invocations (Lambda Managed Instances) take turns on the threads.
        Executor lane = pool.lane();
        List<CompletableFuture<RecordOutcome>> futures = fifo
                ? submitFifo(messages, expired, started, lane)
                : messages.stream().map(m -> CompletableFuture.supplyAsync(() -> runOne(m, expired, started), lane)).toList();

        List<RecordOutcome> outcomes = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            QueueMessage m = messages.get(i);
            RecordOutcome outcome = await(m, futures.get(i), deadline, expired, crashed);
            outcomes.add(settleLastReceive(m, outcome, started.contains(m.messageId()), crashed.contains(m.messageId())));
        }
        BatchOutcome batch = new BatchOutcome(outcomes);
        for (RecordOutcome o : outcomes) {
            if (o.disposition() == Disposition.NOT_FINISHED || o.disposition() == Disposition.SKIPPED_AFTER_GROUP_FAILURE
                    || o.disposition() == Disposition.DEAD_LETTER_FAILED) {
                metrics.countOutcome(o.disposition()); // the others were counted where they happened
            }
        }
        log.atInfo().addKeyValue("batch_size", messages.size())
                .addKeyValue("failures", batch.failedMessageIds().size())
                .addKeyValue("fifo", fifo)
                .log("batch done");
        return batch;
    }

    /** One chain per message group: each message starts only after the previous one of its group succeeded. */
    private List<CompletableFuture<RecordOutcome>> submitFifo(List<QueueMessage> messages, AtomicBoolean expired,
                                                              Set<String> started, Executor lane) {
        Map<String, CompletableFuture<RecordOutcome>> lastOfGroup = new LinkedHashMap<>();
        List<CompletableFuture<RecordOutcome>> futures = new ArrayList<>(messages.size());
        for (QueueMessage m : messages) {
            // A FIFO message always has a group; without one, treat it as a group of its own.
            String group = m.messageGroupId().orElse("\0" + m.messageId());
            CompletableFuture<RecordOutcome> previous = lastOfGroup.get(group);
            CompletableFuture<RecordOutcome> future;
            if (previous == null) {
                future = CompletableFuture.supplyAsync(() -> runOne(m, expired, started), lane);
            } else {
                future = previous.handleAsync((before, error) -> {
                    if (error == null && before.acknowledged()) {
                        return runOne(m, expired, started);
                    }
                    if (expired.get() || (before != null && before.disposition() == Disposition.NOT_FINISHED)) {
                        return new RecordOutcome(m.messageId(), Disposition.NOT_FINISHED, "deadline reached");
                    }
                    return new RecordOutcome(m.messageId(), Disposition.SKIPPED_AFTER_GROUP_FAILURE,
                            "an earlier message of group " + group + " failed");
                }, lane);
            }
            lastOfGroup.put(group, future);
            futures.add(future);
        }
        return futures;
    }

    private RecordOutcome await(QueueMessage m, CompletableFuture<RecordOutcome> future, Instant deadline,
                                AtomicBoolean expired, Set<String> crashed) {
        try {
            long remaining = Duration.between(clock.instant(), deadline).toMillis();
            if (remaining > 0 && !Thread.currentThread().isInterrupted()) {
                return future.get(remaining, TimeUnit.MILLISECONDS);
            }
            if (future.isDone()) {
                return future.get();
            }
            return giveUp(m, future, expired);
        } catch (TimeoutException e) {
            return giveUp(m, future, expired);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // keep it: the host decides; the rest are reported unfinished
            return giveUp(m, future, expired);
        } catch (CancellationException e) {
            return new RecordOutcome(m.messageId(), Disposition.NOT_FINISHED, "deadline reached");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            crashed.add(m.messageId());
            log.atError().addKeyValue("message_id", m.messageId()).setCause(cause)
                    .log("unexpected error processing a message; it will be delivered again");
            metrics.countOutcome(Disposition.RETRY);
            return new RecordOutcome(m.messageId(), Disposition.RETRY, "unexpected error: " + cause);
        }
    }

    private RecordOutcome giveUp(QueueMessage m, CompletableFuture<RecordOutcome> future, AtomicBoolean expired) {
        expired.set(true); // nothing queued behind the deadline starts any more
        RecordOutcome unfinished = new RecordOutcome(m.messageId(), Disposition.NOT_FINISHED, "deadline reached");
        if (future.complete(unfinished)) {
            // Won the race: this message is reported; a running job may still finish (see class comment).
            log.atWarn().addKeyValue("message_id", m.messageId()).log("not finished before the deadline; reported for redelivery");
            return unfinished;
        }
        // It finished between the timeout and now: report what really happened.
        try {
            return future.get();
        } catch (InterruptedException | ExecutionException | CancellationException e) {
            return unfinished;
        }
    }

    /** Runs on a worker thread: parse, then process or dead-letter. */
    private RecordOutcome runOne(QueueMessage m, AtomicBoolean expired, Set<String> started) {
        if (expired.get()) {
            return new RecordOutcome(m.messageId(), Disposition.NOT_FINISHED, "deadline reached before start");
        }
        started.add(m.messageId());
        MDC.put("message_id", m.messageId());
        Object run = new Object();
        running.put(run, clock.instant());
        try {
            JobMessage job;
            try {
                job = parser.parse(m.body());
            } catch (PoisonMessageException e) {
                return deadLetter(m, e.getMessage());
            }
            JobOutcome outcome = jobs.process(job, m.receiveCount());
            return new RecordOutcome(m.messageId(), outcome.disposition(), outcome.detail());
        } finally {
            running.remove(run);
            MDC.remove("message_id");
        }
    }

    /**
     * A message reported for redelivery on its last allowed receive is moved to the DLQ by SQS next. Where its job
     * got no verdict, the row would stay PENDING or PROCESSING for ever, so:
     * <ul>
     *   <li>never started (deadline, or skipped behind a failed FIFO message), or ended in an {@link Error} that
     *       escaped the job: the job is given up ({@link JobProcessor#giveUp}: FAILED "gave up after N attempts",
     *       acknowledged), or, when even that fails, left to the DLQ;</li>
     *   <li>started and still running at the deadline: it cannot be failed under its own feet (it may still
     *       complete), so it goes to the DLQ with its row PROCESSING. If it finishes on its own the row is terminal
     *       and the DLQ copy is stale; if its container is frozen or reaped first, {@code ./timbre reconcile} finishes
     *       the row from the DLQ (docs/reliability.md, "Job lifecycle invariant").</li>
     * </ul>
     */
    private RecordOutcome settleLastReceive(QueueMessage m, RecordOutcome outcome, boolean started, boolean crashed) {
        Disposition d = outcome.disposition();
        boolean unstarted = !started && (d == Disposition.NOT_FINISHED || d == Disposition.SKIPPED_AFTER_GROUP_FAILURE);
        if (!unstarted && !crashed) {
            if (started && d == Disposition.NOT_FINISHED && jobs.isLastReceive(m.receiveCount())) {
                log.atWarn().addKeyValue("message_id", m.messageId()).addKeyValue("receive_count", m.receiveCount())
                        .log("a running job reached the deadline on its last receive: its message goes to the DLQ; "
                                + "if the job does not finish on its own, ./timbre reconcile finishes its row");
            }
            return outcome;
        }
        JobMessage job;
        try {
            job = parser.parse(m.body());
        } catch (PoisonMessageException e) {
            return outcome; // no job row; SQS's redrive keeps the message in the DLQ
        }
        return jobs.giveUp(job, m.receiveCount(), outcome.detail())
                .map(o -> new RecordOutcome(m.messageId(), o.disposition(), o.detail()))
                .orElse(outcome);
    }

    private RecordOutcome deadLetter(QueueMessage m, String reason) {
        try {
            deadLetters.send(m, reason);
        } catch (RuntimeException e) {
            log.atError().addKeyValue("poison_reason", reason)
                    .log("poison message could not be moved to the DLQ; it will be delivered again: {}", e.getMessage());
            return new RecordOutcome(m.messageId(), Disposition.DEAD_LETTER_FAILED, reason);
        }
        log.atWarn().addKeyValue("poison_reason", reason).log("poison message moved to the DLQ");
        metrics.countOutcome(Disposition.DEAD_LETTERED);
        return new RecordOutcome(m.messageId(), Disposition.DEAD_LETTERED, reason);
    }
}
