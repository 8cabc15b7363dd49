package dev.timbre.tone;

/**
 * One file's tone-color embedding.
 *
 * @param embedding       256 floats, OpenVoice {@code extract_se} of this file alone
 * @param durationSeconds duration of the recording as uploaded
 * @param sampleRateIn    sample rate of the recording as uploaded
 */
public record Extraction(float[] embedding, double durationSeconds, int sampleRateIn) {
}
