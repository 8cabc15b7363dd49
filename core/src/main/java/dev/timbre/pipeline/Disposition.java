package dev.timbre.pipeline;

/**
 * What happened to one message, and whether its delivery is acknowledged (deleted from the queue) or reported
 * as a batch item failure so that SQS delivers it again (docs/architecture.md §6).
 */
public enum Disposition {
    /** The embedding is stored and the job row is COMPLETED. */
    COMPLETED(true),
    /** The job was already COMPLETED: a duplicate delivery, nothing done. */
    DUPLICATE(true),
    /** A permanent failure: the job row is FAILED with an error a user can act on. */
    FAILED(true),
    /** A transient failure on the last allowed receive: the job row is FAILED "gave up after N attempts". */
    GAVE_UP(true),
    /** A poison message, now in the DLQ with its reason. */
    DEAD_LETTERED(true),
    /**
     * The last allowed receive gave up, but the row could not be marked FAILED (the database is down): reported, so
     * that SQS moves the message to the DLQ with the row still open; {@code ./timbre reconcile} finishes it there.
     * Acknowledging it instead would delete the only trace of an unfinished job.
     */
    GIVE_UP_FAILED(false),
    /** A transient failure: the job stays PROCESSING with the error noted; redeliver. */
    RETRY(false),
    /** A poison message whose move to the DLQ failed: redeliver rather than lose it. */
    DEAD_LETTER_FAILED(false),
    /** Not finished before the deadline: redeliver. The job may still finish later (redelivery then sees COMPLETED). */
    NOT_FINISHED(false),
    /** FIFO: an earlier message of the same group failed, so this one was not attempted. */
    SKIPPED_AFTER_GROUP_FAILURE(false);

    private final boolean acknowledged;

    Disposition(boolean acknowledged) {
        this.acknowledged = acknowledged;
    }

    /** True when the message must be deleted from the queue; false when it must be delivered again. */
    public boolean acknowledged() {
        return acknowledged;
    }
}
