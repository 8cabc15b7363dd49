package dev.timbre.tone;

import java.util.Objects;
import java.util.Optional;

/**
 * One file's tone-color embedding.
 *
 * @param embedding       256 floats: OpenVoice {@code extract_se} of this file alone ({@link SeMode#EXTRACT_SE}) or
 *                        the mean over its speech parts ({@link SeMode#GET_SE})
 * @param durationSeconds duration of the recording as uploaded
 * @param sampleRateIn    sample rate of the recording as uploaded
 * @param mode            how the embedding was made
 * @param speech          for {@link SeMode#GET_SE}, what was kept; empty for {@link SeMode#EXTRACT_SE}
 */
public record Extraction(float[] embedding, double durationSeconds, int sampleRateIn, SeMode mode,
                         Optional<SpeechSummary> speech) {

    public Extraction {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(speech, "speech");
    }

    /** A whole-clip ({@link SeMode#EXTRACT_SE}) extraction. */
    public Extraction(float[] embedding, double durationSeconds, int sampleRateIn) {
        this(embedding, durationSeconds, sampleRateIn, SeMode.EXTRACT_SE, Optional.empty());
    }
}
