package dev.timbre.audio;

/**
 * What {@code ffmpeg -i FILE -ac 1 -ar 16000 -f s16le -} writes (openai-whisper's {@code load_audio}, which
 * OpenVoice's VAD path reads): the 16 kHz mono signed 16-bit input of the speech detector.
 *
 * <p><b>An approximation for now</b> (docs/architecture.md §10): libswresample's default stereo down-mix (each
 * channel times 1/√2, normalised to a row sum of 1, i.e. the mean) and then a band-limited resampling to 16 kHz
 * with resampy's {@code kaiser_best} filter, which Timbre already reproduces, instead of libswresample's own
 * polyphase filter (32 taps, cutoff 0.97, Kaiser β 9); samples are rounded and clipped to 16 bits as FFmpeg's
 * float-to-s16 conversion does. The two filters differ by a few least significant bits, which can move a VAD
 * boundary by one 32 ms window where a probability sits at the threshold. A bit-exact port of libswresample is
 * the open part of this path.
 */
public final class FfmpegMono16k {
    /** The speech detector's rate. */
    public static final int RATE = 16_000;

    private static final Resampler RESAMPLER = new Resampler(ResamplingFilter.KAISER_BEST);

    private FfmpegMono16k() {
    }

    /** @return 16 kHz mono signed 16-bit samples */
    public static short[] convert(OriginalAudio audio) {
        float[] mono = downMix(audio);
        float[] resampled = audio.sampleRate() == RATE ? mono : RESAMPLER.resample(mono, audio.sampleRate(), RATE);
        short[] out = new short[resampled.length];
        for (int i = 0; i < out.length; i++) {
            long v = Math.round(Math.rint(resampled[i] * 32768.0f));
            out[i] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, v));
        }
        return out;
    }

    private static float[] downMix(OriginalAudio audio) {
        int channels = audio.channels();
        float[] in = audio.interleaved();
        if (channels == 1) {
            return in.clone();
        }
        if (channels != 2) {
            throw new InvalidAudioException("unsupported audio: get-se supports mono and stereo; this file has "
                    + channels + " channels");
        }
        float[] mono = new float[audio.frames()];
        for (int f = 0; f < mono.length; f++) {
            mono[f] = 0.5f * in[2 * f] + 0.5f * in[2 * f + 1];
        }
        return mono;
    }
}
