package dev.timbre.audio;

/**
 * Mono float audio ready for the spectrogram.
 *
 * @param samples         mono samples at {@code sampleRate}, nominally in [-1, 1]
 * @param sampleRate      the rate of {@code samples} (the checkpoint's rate)
 * @param sampleRateIn    the rate of the file as uploaded
 * @param durationSeconds duration of the recording as uploaded
 */
public record LoadedAudio(float[] samples, int sampleRate, int sampleRateIn, double durationSeconds) {
}
