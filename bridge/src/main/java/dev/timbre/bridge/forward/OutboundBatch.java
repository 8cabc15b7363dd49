package dev.timbre.bridge.forward;

import java.util.List;

/**
 * Entries sent together in one {@code SendMessageBatch}: at most {@link #MAX_ENTRIES} and at most
 * {@link #MAX_BYTES} in total (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html).
 *
 * @param lane the sender lane, see {@link OutboundEntry#lane()}
 * @param entries in delivery order
 */
public record OutboundBatch(int lane, List<OutboundEntry> entries) {

    /** SQS's cap on entries per batch. */
    public static final int MAX_ENTRIES = 10;
    /** SQS's cap on one message and on the sum of a batch (1 MiB since August 2025). */
    public static final int MAX_BYTES = 1_048_576;

    public OutboundBatch {
        entries = List.copyOf(entries);
        if (entries.isEmpty() || entries.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException("a batch holds 1.." + MAX_ENTRIES + " entries, got " + entries.size());
        }
    }

    public int sizeBytes() {
        return entries.stream().mapToInt(OutboundEntry::sizeBytes).sum();
    }
}
