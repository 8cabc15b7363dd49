package dev.timbre.store;

import java.time.Instant;
import java.util.UUID;

/** A point: the vector and its payload (docs/architecture.md §5). */
public record StoredEmbedding(UUID jobId, String voiceId, float[] vector, String model, Instant processedAt,
                              double durationSeconds) {
}
