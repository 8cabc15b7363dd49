package dev.timbre.audio;

/**
 * A recording as its file holds it, before any mixing or resampling: what OpenVoice's get-se path slices (pydub)
 * and what FFmpeg converts to 16 kHz for the VAD ({@link FfmpegMono16k}).
 *
 * @param interleaved  samples, frame after frame, channel after channel, as FFmpeg's decoder would output them
 *                     scaled to [-1, 1] (an integer sample {@code k} of {@code b} bits is {@code k / 2^(b-1)}, exact
 *                     in float for 16 bits and fewer)
 * @param sampleRate   the file's rate
 * @param channels     the file's channel count
 * @param decodedAs    the sample format FFmpeg's decoder produces for this file (decides libswresample's path)
 */
public record OriginalAudio(float[] interleaved, int sampleRate, int channels, SampleFormat decodedAs) {

    /** FFmpeg sample formats a decoder of ours can stand for. */
    public enum SampleFormat { U8, S16, S32, FLT, DBL }

    public int frames() {
        return interleaved.length / channels;
    }

    public double durationSeconds() {
        return (double) frames() / sampleRate;
    }
}
