package dev.timbre.audio;

/**
 * What a decoder hands back: the recording mixed to mono at its own rate.
 *
 * @param mono       mean of the channels per frame, float32 as librosa's {@code to_mono}
 * @param sampleRate the file's rate
 * @param channels   the file's channel count
 */
record DecodedAudio(float[] mono, int sampleRate, int channels) {
}
