package dev.timbre.job;

/**
 * Retrying cannot help (docs/architecture.md §6 "permanent"): the job becomes FAILED with this message and its SQS message
 * is acknowledged. The message is one line a user can act on.
 */
public class PermanentJobException extends RuntimeException {
    public PermanentJobException(String message) {
        super(message);
    }

    public PermanentJobException(String message, Throwable cause) {
        super(message, cause);
    }
}
