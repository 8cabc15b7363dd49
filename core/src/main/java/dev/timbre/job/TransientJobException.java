package dev.timbre.job;

/**
 * A dependency failed in a way that may pass (docs/architecture.md §6 "transient": timeouts, 5xx, connection refused,
 * throttling). The job stays PROCESSING with the error noted and the message is redelivered.
 */
public class TransientJobException extends RuntimeException {
    public TransientJobException(String message, Throwable cause) {
        super(message, cause);
    }
}
