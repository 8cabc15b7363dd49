package dev.timbre.store;

import java.time.Instant;
import java.util.UUID;

/** A point: the vector and its payload (DESIGN §4). */
public record StoredEmbedding(UUID jobId, String voiceId, float[] vector, String model, Instant processedAt,
                              double durationSeconds) {
}
