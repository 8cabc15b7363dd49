package dev.timbre.bridge.forward;

/**
 * Settles one delivery on the channel it came from.
 *
 * <p>Implementations are thread-safe: any sender thread may call them; they hand the protocol work to the channel's
 * single acker. Neither method throws: if the channel is gone the delivery is simply left to the broker, which
 * redelivers it (at-least-once).
 */
public interface DeliverySettler {

    /** SQS accepted the message: acknowledge it. */
    void ack();

    /**
     * SQS refused the message for the sender's fault, so retrying cannot help: move it to the dead-letter queue with
     * the reason, never drop it.
     *
     * @param code short machine-readable cause, e.g. SQS's error code
     * @param reason one line a person can act on
     */
    void deadLetter(String code, String reason);

    /**
     * True when the channel this delivery came on has been lost since: the broker has already requeued it and will
     * deliver it again, so sending it now would only make a duplicate.
     */
    default boolean stale() {
        return false;
    }

    /** Lets go of a {@link #stale()} delivery without acking it (an ack could not reach the broker anyway). */
    default void abandon() {
    }
}
