package dev.timbre.bridge.sqs;

/**
 * A delivery that no SQS request could ever carry (not UTF-8, too large): it goes to the dead-letter queue without
 * being sent.
 */
public final class UnsendableMessageException extends Exception {
    private final String code;

    public UnsendableMessageException(String code, String reason) {
        super(reason, null, false, false);
        this.code = code;
    }

    /** SQS-style error code, e.g. {@code MessageTooLong}. */
    public String code() {
        return code;
    }
}
