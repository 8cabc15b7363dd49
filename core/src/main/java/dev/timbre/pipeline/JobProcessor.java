package dev.timbre.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.timbre.audio.InvalidAudioException;
import dev.timbre.job.JobMessage;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.job.JobStore;
import dev.timbre.job.PermanentJobException;
import dev.timbre.job.TransientJobException;
import dev.timbre.source.AudioSource;
import dev.timbre.store.EmbeddingStore;
import dev.timbre.store.StoredEmbedding;
import dev.timbre.tone.Extraction;
import dev.timbre.tone.SeMode;
import dev.timbre.tone.SpeechSummary;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One job end to end (docs/architecture.md §1, §4, §6): pick up the row, read the audio, extract the embedding, upsert the
 * point (id = job id), complete the row. Each failure is classified once, here:
 * <ul>
 *   <li>row COMPLETED already → {@link Disposition#DUPLICATE}, nothing touched;</li>
 *   <li>row missing or deleted, object missing or too large, audio unusable → the row becomes FAILED with a
 *       one-line error → {@link Disposition#FAILED};</li>
 *   <li>a dependency fault ({@link TransientJobException}), an unexpected exception, an
 *       {@link OutOfMemoryError} or a {@link StackOverflowError} → the row stays PROCESSING with the error noted →
 *       {@link Disposition#RETRY}; but on the last allowed receive ({@code receiveCount >= maxReceives}) the row
 *       becomes FAILED "gave up after N attempts: …" → {@link Disposition#GAVE_UP}, because SQS will move the
 *       message to the DLQ next and nobody would ever finish the row. If the row cannot be marked then (the
 *       database is down), the message is reported ({@link Disposition#GIVE_UP_FAILED}) so that it reaches the
 *       DLQ with the row still open, where {@code ./timbre reconcile} finishes it;</li>
 *   <li>{@link JobStore#complete} refused (the row is no longer PROCESSING): COMPLETED by another delivery →
 *       {@link Disposition#DUPLICATE}; FAILED or deleted meanwhile → the point just written is removed.</li>
 * </ul>
 * Invariant kept on every path: a job row ends COMPLETED or FAILED, or its message stays in the jobs queue or the
 * DLQ; and a point exists only for a COMPLETED job (removed, under the row's lock, when the job ends FAILED).
 * Every stage is timed: the times go to the log line that ends the job and to {@link PipelineMetrics}.
 *
 * <p>Thread-safe: holds only thread-safe collaborators; runs concurrently on the worker threads.
 * Never throws for a job failure; an {@link Error} other than the two above propagates.
 */
public final class JobProcessor {

    private static final Logger log = LoggerFactory.getLogger(JobProcessor.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** CPU time of the calling thread (clock_gettime on Linux: well under a microsecond). */
    private static final ThreadMXBean THREAD_CPU = ManagementFactory.getThreadMXBean();

    private final JobStore jobs;
    private final AudioSource audio;
    private final EmbeddingStore embeddings;
    private final Embedder embedder;
    private final SeMode defaultMode;
    private final int maxReceives;
    private final PipelineMetrics metrics;
    private final Clock clock;

    /**
     * @param defaultMode the deployment's TIMBRE_SE_MODE: the mode of a job whose message names no {@code se_mode}
     * @param maxReceives the queue's maxReceiveCount (TIMBRE_MAX_RECEIVES): the receive on which a transient
     *                    failure becomes final
     */
    public JobProcessor(JobStore jobs, AudioSource audio, EmbeddingStore embeddings, Embedder embedder,
                        SeMode defaultMode, int maxReceives, PipelineMetrics metrics, Clock clock) {
        if (maxReceives < 1) {
            throw new IllegalArgumentException("maxReceives must be at least 1, was " + maxReceives);
        }
        this.jobs = jobs;
        this.audio = audio;
        this.embeddings = embeddings;
        this.embedder = embedder;
        this.defaultMode = java.util.Objects.requireNonNull(defaultMode, "defaultMode");
        this.maxReceives = maxReceives;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** True when a message received this often will not be delivered again (SQS dead-letters it next). */
    public boolean isLastReceive(int receiveCount) {
        return receiveCount >= maxReceives;
    }

    /**
     * Processes one job.
     *
     * @param receiveCount the message's ApproximateReceiveCount (1 on first delivery)
     */
    public JobOutcome process(JobMessage job, int receiveCount) {
        MDC.put("job_id", job.jobId().toString());
        MDC.put("voice_id", job.voiceId());
        try {
            JobOutcome outcome = run(job, receiveCount);
            metrics.countOutcome(outcome.disposition());
            return outcome;
        } finally {
            MDC.remove("job_id");
            MDC.remove("voice_id");
        }
    }

    private JobOutcome run(JobMessage job, int receiveCount) {
        StageClock stages = new StageClock();
        try {
            JobStore.PickUp pickUp = jobs.pickUp(job.jobId());
            stages.lap("PickUp");
            switch (pickUp) {
                case ALREADY_COMPLETED -> {
                    stages.report();
                    log.atInfo().addKeyValue("outcome", "duplicate").log("job already completed; acknowledging");
                    return JobOutcome.of(Disposition.DUPLICATE);
                }
                case NOT_FOUND_OR_DELETED -> {
                    // A deleted row is marked FAILED (docs/architecture.md §6); for a missing one the update changes nothing
                    // and the error lives only in the log.
                    stages.report();
                    return failPermanently(job, "job " + job.jobId() + " does not exist or was deleted");
                }
                case STARTED -> {
                    // go on below
                }
            }

            byte[] encoded = audio.fetch(job.s3Bucket().orElse(null), job.s3Key());
            stages.lap("Fetch");
            Extraction extraction = embedder.extract(encoded, modeOf(job));
            stages.lap("Extract");

            Instant processedAt = clock.instant();
            String model = embedder.modelId();
            embeddings.upsert(new StoredEmbedding(job.jobId(), job.voiceId(), extraction.embedding(), model,
                    processedAt, extraction.durationSeconds(), extraction.mode()));
            stages.lap("Store");

            boolean completed = jobs.complete(job.jobId(), resultJson(job, extraction, model, processedAt));
            stages.lap("Complete");
            stages.report();
            if (!completed) {
                return notCompleted(job);
            }
            stages.logEnd("job completed", extraction);
            return JobOutcome.of(Disposition.COMPLETED);
        } catch (InvalidAudioException | PermanentJobException e) {
            stages.report();
            return failPermanently(job, oneLine(e.getMessage()));
        } catch (TransientJobException e) {
            stages.report();
            return transientFailure(job, receiveCount, oneLine(e.getMessage()), null);
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            // Unexpected: a bug, an unclassified client error, or an input that exhausted the heap or the stack.
            // Retry like a transient fault (bounded by maxReceives) and keep the stack trace, which is what an
            // unexpected failure needs. The two errors are caught because they are safe to survive here: both have
            // unwound this job's frames, so what the job held is garbage now and no lock of ours is held; and
            // retrying is right because a job that merely ran next to the input that took the memory succeeds on
            // its next receive, while the input itself gives up after maxReceives. Any other Error propagates
            // (BatchProcessor still gives the job up on its last receive).
            stages.report();
            String error = "internal error: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + oneLine(e.getMessage()));
            return transientFailure(job, receiveCount, error, e);
        }
    }

    /**
     * {@link JobStore#complete} found the row no longer PROCESSING (or deleted) after this delivery wrote the point.
     * Only a row COMPLETED by another delivery makes that a harmless duplicate (both wrote the same point id). A row
     * FAILED meanwhile (a parallel delivery gave up, an operator reconciled it) or deleted keeps its verdict, and
     * the point just written must go: a point never outlives a failed or deleted job.
     */
    private JobOutcome notCompleted(JobMessage job) {
        JobRecord row = jobs.find(job.jobId()).orElse(null);
        if (row != null && !row.deleted() && row.status() == JobStatus.COMPLETED) {
            log.atInfo().addKeyValue("outcome", "duplicate").log("job was completed by another delivery");
            return JobOutcome.of(Disposition.DUPLICATE);
        }
        if (row == null || row.deleted()) {
            return failPermanently(job, "job " + job.jobId() + " does not exist or was deleted");
        }
        if (row.status() == JobStatus.FAILED) {
            dropPointIfFailedOrGone(job);
            String error = row.error() == null ? "failed by another delivery" : row.error();
            log.atWarn().addKeyValue("outcome", "failed").addKeyValue("error", error)
                    .log("job was failed by another delivery while this one ran; its point was removed");
            return new JobOutcome(Disposition.FAILED, error);
        }
        // PENDING or PROCESSING: a newer delivery has taken the job up since; it writes the point again and
        // finishes the row, and its own message stays in the queue until it has.
        log.atInfo().addKeyValue("outcome", "duplicate").log("job was taken up again by another delivery");
        return JobOutcome.of(Disposition.DUPLICATE);
    }

    /**
     * Marks the job FAILED, then removes its point if one was written (by this delivery or an earlier one): the
     * point of a FAILED job must not stay. Either step may throw.
     */
    private void markFailed(JobMessage job, String error) {
        jobs.fail(job.jobId(), error);
        dropPointIfFailedOrGone(job);
    }

    /** Removes the job's point under the row's lock, if the row is FAILED, deleted or missing. */
    private void dropPointIfFailedOrGone(JobMessage job) {
        jobs.lockedIfFailedOrGone(job.jobId(), () -> embeddings.delete(job.jobId()));
    }

    /**
     * For a message on its last allowed receive ({@code receiveCount >= maxReceives}) that is reported for
     * redelivery without a verdict: one that never started (the batch deadline came first, or an earlier message of
     * its FIFO group failed), or whose job ended in an {@link Error} this class does not catch. SQS moves it to the
     * DLQ next and nobody would ever finish the row, so the job becomes FAILED "gave up after N attempts: reason"
     * (never over COMPLETED) and its point, if any, is removed. Found by the chaos run: rows stayed PROCESSING with
     * their messages in the DLQ.
     *
     * @return {@link Disposition#GAVE_UP} when the row was marked; empty when receives are left or the row could not
     *         be marked (then the message is redriven to the DLQ and stays recoverable there: {@code ./timbre reconcile})
     */
    public java.util.Optional<JobOutcome> giveUp(JobMessage job, int receiveCount, String reason) {
        if (!isLastReceive(receiveCount)) {
            return java.util.Optional.empty();
        }
        String finalError = "gave up after " + receiveCount + " attempts: " + oneLine(reason);
        MDC.put("job_id", job.jobId().toString());
        try {
            markFailed(job, finalError);
            log.atError().addKeyValue("outcome", "gave_up").addKeyValue("error", finalError)
                    .addKeyValue("receive_count", receiveCount).log("job gave up without a verdict of its own");
            metrics.countOutcome(Disposition.GAVE_UP);
            return java.util.Optional.of(new JobOutcome(Disposition.GAVE_UP, finalError));
        } catch (RuntimeException e) {
            log.atError().addKeyValue("error", finalError).log("giving up, but the job row could not be marked "
                    + "FAILED; the message goes to the DLQ for ./timbre reconcile: {}", oneLine(e.getMessage()));
            return java.util.Optional.empty();
        } finally {
            MDC.remove("job_id");
        }
    }

    private JobOutcome failPermanently(JobMessage job, String error) {
        try {
            markFailed(job, error);
        } catch (RuntimeException e) {
            // The row could not be marked or its point not removed; retrying reaches the same verdict and finishes
            // it then (on the last receive the message goes to the DLQ, where ./timbre reconcile finishes it).
            log.atWarn().addKeyValue("outcome", "retry").addKeyValue("error", error)
                    .log("permanent failure but the job could not be marked FAILED: {}", oneLine(e.getMessage()));
            return new JobOutcome(Disposition.RETRY, error);
        }
        log.atWarn().addKeyValue("outcome", "failed").addKeyValue("error", error).log("job failed");
        return new JobOutcome(Disposition.FAILED, error);
    }

    private JobOutcome transientFailure(JobMessage job, int receiveCount, String error, Throwable unexpected) {
        if (isLastReceive(receiveCount)) {
            String finalError = "gave up after " + receiveCount + " attempts: " + error;
            try {
                markFailed(job, finalError);
            } catch (RuntimeException e) {
                // Typically the same outage (the database) on the last receive. Acknowledging now would delete the
                // message with the row still open; reported instead, SQS moves it to the DLQ, where the job stays
                // recoverable (./timbre reconcile finishes or requeues it).
                log.atError().addKeyValue("outcome", "give_up_failed").addKeyValue("error", finalError)
                        .addKeyValue("receive_count", receiveCount).setCause(unexpected)
                        .log("giving up, but the job could not be marked FAILED; the message goes to the DLQ: {}",
                                oneLine(e.getMessage()));
                return new JobOutcome(Disposition.GIVE_UP_FAILED, finalError);
            }
            log.atError().addKeyValue("outcome", "gave_up").addKeyValue("error", finalError)
                    .addKeyValue("receive_count", receiveCount).setCause(unexpected).log("job gave up");
            return new JobOutcome(Disposition.GAVE_UP, finalError);
        }
        try {
            jobs.noteTransientError(job.jobId(), error);
        } catch (RuntimeException e) {
            // Often the same outage (the database); the redelivery matters, the note does not.
            log.atDebug().log("could not note the transient error on the job row: {}", e.toString());
        }
        log.atWarn().addKeyValue("outcome", "retry").addKeyValue("error", error)
                .addKeyValue("receive_count", receiveCount).setCause(unexpected).log("job will be retried");
        return new JobOutcome(Disposition.RETRY, error);
    }

    /** The mode a job is embedded in: its message's {@code se_mode}, else the deployment's default. */
    SeMode modeOf(JobMessage job) {
        return job.modeOr(defaultMode);
    }

    private String resultJson(JobMessage job, Extraction extraction, String model, Instant processedAt) {
        ObjectNode result = JSON.createObjectNode();
        result.put("message", "embedding stored");
        result.put("voice_id", job.voiceId());
        result.put("processed_at", DateTimeFormatter.ISO_INSTANT.format(processedAt));
        result.put("model", model);
        ObjectNode embedding = result.putObject("embedding");
        embedding.put("collection", embeddings.collection());
        embedding.put("point_id", job.jobId().toString());
        embedding.put("dim", extraction.embedding().length);
        ObjectNode audioNode = result.putObject("audio");
        audioNode.put("duration_s", extraction.durationSeconds());
        audioNode.put("sample_rate_in", extraction.sampleRateIn());
        // se_mode and speech are also copied into their own columns by PostgresJobStore.complete (V4)
        result.put("se_mode", extraction.mode().id());
        extraction.speech().ifPresent(speech -> putSpeech(result.putObject("speech"), speech));
        return result.toString();
    }

    /** The speech summary as the job result, the status command and the extract command show it. */
    public static void putSpeech(ObjectNode node, SpeechSummary speech) {
        var segments = node.putArray("segments_s");
        for (double[] segment : speech.segmentsSeconds()) {
            segments.addArray().add(segment[0]).add(segment[1]);
        }
        node.put("kept_s", speech.keptSeconds());
        var splits = node.putArray("split_s");
        speech.splitSeconds().forEach(splits::add);
    }

    /** Errors are stored and shown as one line; a multi-line message would break the contract of docs/architecture.md §4. */
    static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "no detail";
        }
        String line = message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
        return line.length() > 500 ? line.substring(0, 500) + "…" : line;
    }

    /**
     * Times consecutive stages of one job: wall time for the metrics and the log, and the thread's CPU time for the
     * log ({@code <stage>_cpu_ms}), which is what a job costs where the wall time also holds the waits on S3, SQS and
     * the database. Not thread-safe: one per job, on one thread.
     */
    private final class StageClock {
        private final long start = System.nanoTime();
        private final long cpuStart = THREAD_CPU.getCurrentThreadCpuTime();
        private long last = start;
        private long lastCpu = cpuStart;
        private final java.util.LinkedHashMap<String, Long> laps = new java.util.LinkedHashMap<>();
        private final java.util.LinkedHashMap<String, Long> cpuLaps = new java.util.LinkedHashMap<>();
        private boolean reported;

        void lap(String stage) {
            long now = System.nanoTime();
            long cpu = THREAD_CPU.getCurrentThreadCpuTime();
            laps.put(stage, (now - last) / 1_000_000);
            cpuLaps.put(stage, cpu - lastCpu);
            last = now;
            lastCpu = cpu;
        }

        long totalMillis() {
            return (System.nanoTime() - start) / 1_000_000;
        }

        void report() {
            if (reported) {
                return;
            }
            reported = true;
            laps.forEach(metrics::stageLatency);
            metrics.stageLatency("Job", totalMillis());
        }

        void logEnd(String message, Extraction extraction) {
            var event = log.atInfo().addKeyValue("outcome", "completed");
            for (var e : laps.entrySet()) {
                event = event.addKeyValue(e.getKey().toLowerCase() + "_ms", e.getValue());
            }
            for (var e : cpuLaps.entrySet()) {
                event = event.addKeyValue(e.getKey().toLowerCase() + "_cpu_ms", tenths(e.getValue()));
            }
            event.addKeyValue("total_ms", totalMillis())
                    .addKeyValue("total_cpu_ms", tenths(THREAD_CPU.getCurrentThreadCpuTime() - cpuStart))
                    .addKeyValue("duration_s", extraction.durationSeconds())
                    .addKeyValue("se_mode", extraction.mode().id())
                    .log(message);
        }

        private static double tenths(long nanos) {
            return Math.round(nanos / 100_000.0) / 10.0;
        }
    }
}
