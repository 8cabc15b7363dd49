package dev.timbre.pipeline;

import java.time.Instant;
import java.util.Optional;

/**
 * One delivered message, independent of the host that received it (Lambda event record or an SQS
 * ReceiveMessage result).
 *
 * @param messageId      the SQS message id; the item identifier of a batch item failure
 * @param body           the raw body, not yet trusted
 * @param receiveCount   SQS {@code ApproximateReceiveCount}, at least 1
 * @param messageGroupId FIFO message group, empty on standard queues
 * @param sentAt         SQS {@code SentTimestamp}, when known (for the queue-age metric)
 */
public record QueueMessage(String messageId, String body, int receiveCount, Optional<String> messageGroupId,
                           Optional<Instant> sentAt) {

    public QueueMessage {
        if (messageId == null || messageId.isEmpty()) {
            throw new IllegalArgumentException("messageId must not be empty");
        }
        if (receiveCount < 1) {
            receiveCount = 1; // an absent or garbled attribute means this is at least the first receive
        }
    }

    /** Reads {@code ApproximateReceiveCount}, tolerating absence or garbage (then 1). */
    public static int parseReceiveCount(String raw) {
        if (raw == null) {
            return 1;
        }
        try {
            return Math.max(1, Integer.parseInt(raw.trim()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** Reads {@code SentTimestamp} (epoch milliseconds), empty when absent or garbled. */
    public static Optional<Instant> parseSentTimestamp(String raw) {
        if (raw == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.ofEpochMilli(Long.parseLong(raw.trim())));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
