package dev.timbre.pipeline;

/**
 * The outcome of one message of a batch.
 *
 * @param messageId   the SQS message id
 * @param disposition what happened
 * @param detail      one line for logs (the error, the poison reason), empty on success
 */
public record RecordOutcome(String messageId, Disposition disposition, String detail) {

    public boolean acknowledged() {
        return disposition.acknowledged();
    }
}
