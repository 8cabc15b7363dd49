package dev.timbre.audio;

/**
 * What a decoder hands back: the recording mixed to mono at its own rate, and, when the decode was asked to keep
 * the channels ({@link DecodeContext#keepChannels()}), the samples as the file holds them.
 *
 * @param mono        mean of the channels per frame, float32 as librosa's {@code to_mono}
 * @param sampleRate  the file's rate
 * @param channels    the file's channel count
 * @param interleaved frame after frame, channel after channel, scaled to [-1, 1]; {@code null} unless kept
 * @param decodedAs   the sample format FFmpeg's decoder produces for this file
 */
record DecodedAudio(float[] mono, int sampleRate, int channels, float[] interleaved,
        OriginalAudio.SampleFormat decodedAs) {
}
