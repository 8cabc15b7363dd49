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

    /**
     * Runs {@code action} while holding the job row's lock, if the job may not keep an embedding: its row is
     * FAILED, deleted or missing. Used to remove the point of such a job: {@link #pickUp} and {@link #complete}
     * wait for the lock, so no other delivery can take the job up and write a point that this removal would then
     * take away from a COMPLETED job. An exception of the action rolls back nothing (there is nothing to roll back)
     * and propagates.
     *
     * @return true if the row was FAILED, deleted or missing and the action ran; false if it is PENDING,
     *         PROCESSING (another delivery owns it) or COMPLETED and not deleted
     */
    boolean lockedIfFailedOrGone(UUID jobId, Runnable action);

    /** Inserts a PENDING row (used by submit, the demo and tests). */
    void create(UUID jobId, String voiceId, String s3Key);

    Optional<JobRecord> find(UUID jobId);
}
