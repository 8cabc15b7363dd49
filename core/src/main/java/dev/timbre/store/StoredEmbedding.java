package dev.timbre.store;

import dev.timbre.tone.SeMode;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * A point: the vector and its payload (docs/architecture.md §5).
 *
 * @param seMode how the vector was made; points of different modes are never compared
 */
public record StoredEmbedding(UUID jobId, String voiceId, float[] vector, String model, Instant processedAt,
                              double durationSeconds, SeMode seMode) {

    public StoredEmbedding {
        Objects.requireNonNull(seMode, "seMode");
    }

    /** A whole-clip ({@link SeMode#EXTRACT_SE}) point. */
    public StoredEmbedding(UUID jobId, String voiceId, float[] vector, String model, Instant processedAt,
                           double durationSeconds) {
        this(jobId, voiceId, vector, model, processedAt, durationSeconds, SeMode.EXTRACT_SE);
    }
}
