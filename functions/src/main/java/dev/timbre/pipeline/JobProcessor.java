package dev.timbre.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.timbre.audio.InvalidAudioException;
import dev.timbre.job.JobMessage;
import dev.timbre.job.JobStore;
import dev.timbre.job.PermanentJobException;
import dev.timbre.job.TransientJobException;
import dev.timbre.source.AudioSource;
import dev.timbre.store.EmbeddingStore;
import dev.timbre.store.StoredEmbedding;
import dev.timbre.tone.Extraction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;

/**
 * One job end to end (docs/architecture.md §1, §4, §6): pick up the row, read the audio, extract the embedding, upsert the
 * point (id = job id), complete the row. Each failure is classified once, here:
 * <ul>
 *   <li>row COMPLETED already → {@link Disposition#DUPLICATE}, nothing touched;</li>
 *   <li>row missing or deleted, object missing or too large, audio unusable → the row becomes FAILED with a
 *       one-line error → {@link Disposition#FAILED};</li>
 *   <li>a dependency fault ({@link TransientJobException}) or an unexpected exception → the row stays
 *       PROCESSING with the error noted → {@link Disposition#RETRY}; but on the last allowed receive
 *       ({@code receiveCount >= maxReceives}) the row becomes FAILED "gave up after N attempts: …" →
 *       {@link Disposition#GAVE_UP}, because SQS will move the message to the DLQ next and nobody would
 *       ever finish the row.</li>
 * </ul>
 * Every stage is timed: the times go to the log line that ends the job and to {@link PipelineMetrics}.
 *
 * <p>Thread-safe: holds only thread-safe collaborators; runs concurrently on the worker threads.
 * Never throws for a job failure; an {@link Error} propagates.
 */
public final class JobProcessor {

    private static final Logger log = LoggerFactory.getLogger(JobProcessor.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JobStore jobs;
    private final AudioSource audio;
    private final EmbeddingStore embeddings;
    private final Embedder embedder;
    private final int maxReceives;
    private final PipelineMetrics metrics;
    private final Clock clock;

    /**
     * @param maxReceives the queue's maxReceiveCount (TIMBRE_MAX_RECEIVES): the receive on which a transient
     *                    failure becomes final
     */
    public JobProcessor(JobStore jobs, AudioSource audio, EmbeddingStore embeddings, Embedder embedder,
                        int maxReceives, PipelineMetrics metrics, Clock clock) {
        if (maxReceives < 1) {
            throw new IllegalArgumentException("maxReceives must be at least 1, was " + maxReceives);
        }
        this.jobs = jobs;
        this.audio = audio;
        this.embeddings = embeddings;
        this.embedder = embedder;
        this.maxReceives = maxReceives;
        this.metrics = metrics;
        this.clock = clock;
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
            Extraction extraction = embedder.extract(encoded);
            stages.lap("Extract");

            Instant processedAt = clock.instant();
            String model = embedder.modelId();
            embeddings.upsert(new StoredEmbedding(job.jobId(), job.voiceId(), extraction.embedding(), model,
                    processedAt, extraction.durationSeconds()));
            stages.lap("Store");

            boolean completed = jobs.complete(job.jobId(), resultJson(job, extraction, model, processedAt));
            stages.lap("Complete");
            stages.report();
            if (!completed) {
                // Another delivery of the same job finished first (both wrote the same point id): nothing lost.
                log.atInfo().addKeyValue("outcome", "duplicate").log("job was completed by another delivery");
                return JobOutcome.of(Disposition.DUPLICATE);
            }
            stages.logEnd("job completed", extraction);
            return JobOutcome.of(Disposition.COMPLETED);
        } catch (InvalidAudioException | PermanentJobException e) {
            stages.report();
            return failPermanently(job, oneLine(e.getMessage()));
        } catch (TransientJobException e) {
            stages.report();
            return transientFailure(job, receiveCount, oneLine(e.getMessage()), null);
        } catch (RuntimeException e) {
            // Unexpected: a bug or an unclassified client error. Retry like a transient fault (bounded by
            // maxReceives) and keep the stack trace, which is what an unexpected failure needs.
            stages.report();
            String error = "internal error: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + oneLine(e.getMessage()));
            return transientFailure(job, receiveCount, error, e);
        }
    }

    /**
     * For a message that never started (the batch deadline came first, or an earlier message of its FIFO group
     * failed) on its last allowed receive ({@code receiveCount >= maxReceives}): SQS moves it to the DLQ next and
     * nobody would ever finish the row, so the job becomes FAILED "gave up after N attempts: reason" (never over
     * COMPLETED). Found by the chaos run: rows stayed PROCESSING with their messages in the DLQ.
     *
     * @return {@link Disposition#GAVE_UP} when the row was marked; empty when receives are left or the database
     *         did not answer (then the message is redriven to the DLQ and stays recoverable there)
     */
    public java.util.Optional<JobOutcome> giveUpUnstarted(JobMessage job, int receiveCount, String reason) {
        if (receiveCount < maxReceives) {
            return java.util.Optional.empty();
        }
        String finalError = "gave up after " + receiveCount + " attempts: " + oneLine(reason);
        MDC.put("job_id", job.jobId().toString());
        try {
            jobs.fail(job.jobId(), finalError);
            log.atError().addKeyValue("outcome", "gave_up").addKeyValue("error", finalError)
                    .addKeyValue("receive_count", receiveCount).log("job gave up before it could start");
            metrics.countOutcome(Disposition.GAVE_UP);
            return java.util.Optional.of(new JobOutcome(Disposition.GAVE_UP, finalError));
        } catch (RuntimeException e) {
            log.atError().addKeyValue("error", finalError)
                    .log("giving up, but the job row could not be marked FAILED: {}", oneLine(e.getMessage()));
            return java.util.Optional.empty();
        } finally {
            MDC.remove("job_id");
        }
    }

    private JobOutcome failPermanently(JobMessage job, String error) {
        try {
            jobs.fail(job.jobId(), error);
        } catch (TransientJobException e) {
            // The row could not be marked; retrying will reach the same verdict and mark it then.
            log.atWarn().addKeyValue("outcome", "retry").addKeyValue("error", error)
                    .log("permanent failure but the job row could not be marked FAILED: {}", oneLine(e.getMessage()));
            return new JobOutcome(Disposition.RETRY, error);
        }
        log.atWarn().addKeyValue("outcome", "failed").addKeyValue("error", error).log("job failed");
        return new JobOutcome(Disposition.FAILED, error);
    }

    private JobOutcome transientFailure(JobMessage job, int receiveCount, String error, Throwable unexpected) {
        if (receiveCount >= maxReceives) {
            String finalError = "gave up after " + receiveCount + " attempts: " + error;
            try {
                jobs.fail(job.jobId(), finalError);
            } catch (TransientJobException e) {
                log.atError().addKeyValue("error", finalError)
                        .log("giving up, but the job row could not be marked FAILED: {}", oneLine(e.getMessage()));
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
        return result.toString();
    }

    /** Errors are stored and shown as one line; a multi-line message would break the contract of docs/architecture.md §4. */
    static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "no detail";
        }
        String line = message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
        return line.length() > 500 ? line.substring(0, 500) + "…" : line;
    }

    /** Times consecutive stages of one job. Not thread-safe: one per job, on one thread. */
    private final class StageClock {
        private final long start = System.nanoTime();
        private long last = start;
        private final java.util.LinkedHashMap<String, Long> laps = new java.util.LinkedHashMap<>();
        private boolean reported;

        void lap(String stage) {
            long now = System.nanoTime();
            laps.put(stage, (now - last) / 1_000_000);
            last = now;
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
            event.addKeyValue("total_ms", totalMillis())
                    .addKeyValue("duration_s", extraction.durationSeconds())
                    .log(message);
        }
    }
}
