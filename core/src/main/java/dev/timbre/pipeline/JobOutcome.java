package dev.timbre.pipeline;

/**
 * The outcome of one job.
 *
 * @param disposition what happened and whether the message is acknowledged
 * @param detail      one line: the error stored on the job, or empty on success
 */
public record JobOutcome(Disposition disposition, String detail) {

    static JobOutcome of(Disposition disposition) {
        return new JobOutcome(disposition, "");
    }
}
