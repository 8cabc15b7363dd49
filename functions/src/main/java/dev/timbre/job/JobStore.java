package dev.timbre.job;

import java.util.Optional;
import java.util.UUID;

/**
 * The job table (docs/architecture.md §4). Every transition is one conditional statement so that two deliveries of the
 * same job cannot both win. Database faults surface as {@link TransientJobException}.
 */
public interface JobStore {

    /** Result of trying to pick a job up. */
    enum PickUp {
        /** PENDING|PROCESSING|FAILED → PROCESSING, attempts + 1: this delivery owns the job now. */
        STARTED,
        /** Already COMPLETED: a duplicate delivery; acknowledge and do nothing. */
        ALREADY_COMPLETED,
        /** No such row, or it is deleted: a permanent failure. */
        NOT_FOUND_OR_DELETED
    }

    PickUp pickUp(UUID jobId);

    /** PROCESSING → COMPLETED with the result JSON (docs/architecture.md §4), error cleared; false unless PROCESSING. */
    boolean complete(UUID jobId, String resultJson);

    /** → FAILED with a one-line error. */
    void fail(UUID jobId, String error);

    /** Stays PROCESSING; the transient error is noted for operators. */
    void noteTransientError(UUID jobId, String error);

    /** Inserts a PENDING row (used by submit, the demo and tests). */
    void create(UUID jobId, String voiceId, String s3Key);

    Optional<JobRecord> find(UUID jobId);
}
