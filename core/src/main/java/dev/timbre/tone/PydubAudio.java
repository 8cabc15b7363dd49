package dev.timbre.tone;

import dev.timbre.audio.OriginalAudio;
import java.util.Arrays;
import java.util.List;

/**
 * The part of pydub's {@code AudioSegment} that OpenVoice's {@code split_audio_vad} uses: millisecond slicing,
 * joining without crossfade, and export to WAV that librosa reads back (docs/architecture.md §10).
 *
 * <p>Samples are kept as the floats librosa reads back from the exported WAV, interleaved. That is exact for
 * every WAV pydub exports here: pydub keeps 16- and 32-bit integer samples as they are, widens 24-bit to 32-bit
 * ({@code k << 8}), and OpenVoice's {@code AudioSegment.silent(duration=0) + seg} widens 8-bit to 16-bit
 * ({@code (u - 128) << 8}); libsndfile reads {@code k} of {@code b} bits back as {@code k / 2^(b-1)}, the value
 * {@link OriginalAudio} holds. A float WAV is not read by pydub itself but converted by ffmpeg to {@code pcm_s32le}
 * (clipped to [-1, 1]).
 *
 * <p>Immutable.
 */
public final class PydubAudio {
    private final float[] interleaved;
    private final int sampleRate;
    private final int channels;

    private PydubAudio(float[] interleaved, int sampleRate, int channels) {
        this.interleaved = interleaved;
        this.sampleRate = sampleRate;
        this.channels = channels;
    }

    /** The recording as {@code AudioSegment.from_file} holds it. */
    public static PydubAudio of(OriginalAudio original) {
        float[] samples = original.interleaved().clone();
        if (original.decodedAs() == OriginalAudio.SampleFormat.FLT
                || original.decodedAs() == OriginalAudio.SampleFormat.DBL) {
            // pydub cannot read a float WAV; ffmpeg converts it to pcm_s32le, which clips
            for (int i = 0; i < samples.length; i++) {
                samples[i] = Math.max(-1f, Math.min(1f, samples[i]));
            }
        }
        return new PydubAudio(samples, original.sampleRate(), original.channels());
    }

    /** An empty segment of this rate and channel count ({@code AudioSegment.silent(duration=0)} after sync). */
    public static PydubAudio empty(int sampleRate, int channels) {
        return new PydubAudio(new float[0], sampleRate, channels);
    }

    public int sampleRate() {
        return sampleRate;
    }

    public int channels() {
        return channels;
    }

    public int frames() {
        return interleaved.length / channels;
    }

    /** {@code duration_seconds}: frames / rate. */
    public double durationSeconds() {
        return (double) frames() / sampleRate;
    }

    /** {@code len(segment)}: {@code round(1000 * frames / rate)}, Python's round (half to even). */
    public long lengthMillis() {
        return (long) Math.rint(1000 * ((double) frames() / sampleRate));
    }

    /**
     * {@code segment[startMs:endMs]}: both ends clamped to {@link #lengthMillis()}, each turned into a frame index
     * as {@code int(ms * (rate / 1000.0))}; frames past the end (at most 2 ms, from the rounding of the length)
     * are silence.
     */
    public PydubAudio slice(long startMs, long endMs) {
        long length = lengthMillis();
        long start = Math.min(startMs, length);
        long end = Math.min(endMs, length);
        int startFrame = frameIndex(start);
        int endFrame = frameIndex(end);
        int frames = frames();
        if (endFrame <= startFrame) {
            return empty(sampleRate, channels);
        }
        float[] out = new float[(endFrame - startFrame) * channels];
        int available = Math.max(0, Math.min(endFrame, frames) - startFrame);
        if (available > 0) {
            System.arraycopy(interleaved, startFrame * channels, out, 0, available * channels);
        }
        int missing = (endFrame - startFrame) - available;
        if (missing > 2 * (sampleRate / 1000.0)) {
            throw new IllegalStateException("pydub would refuse to pad " + missing + " frames of silence");
        }
        return new PydubAudio(out, sampleRate, channels);
    }

    private int frameIndex(long millis) {
        // pydub's _parse_position: int(frame_count(ms=val)) with frame_count = ms * (frame_rate / 1000.0)
        return (int) (millis * (sampleRate / 1000.0));
    }

    /** {@code a + b + ...}: the samples one after the other, no crossfade. */
    public static PydubAudio join(int sampleRate, int channels, List<PydubAudio> parts) {
        int total = 0;
        for (PydubAudio p : parts) {
            if (p.sampleRate != sampleRate || p.channels != channels) {
                throw new IllegalArgumentException("parts of different formats");
            }
            total += p.interleaved.length;
        }
        float[] out = new float[total];
        int at = 0;
        for (PydubAudio p : parts) {
            System.arraycopy(p.interleaved, 0, out, at, p.interleaved.length);
            at += p.interleaved.length;
        }
        return new PydubAudio(out, sampleRate, channels);
    }

    /**
     * What {@code librosa.load} of the exported WAV mixes to before resampling: the mean of the channels per frame
     * in float32 ({@code np.mean(y, axis=0)}: the channels summed in order, then divided).
     */
    public float[] mono() {
        if (channels == 1) {
            return interleaved.clone();
        }
        int frames = frames();
        float[] mono = new float[frames];
        for (int f = 0; f < frames; f++) {
            float sum = 0f;
            int base = f * channels;
            for (int c = 0; c < channels; c++) {
                sum += interleaved[base + c];
            }
            mono[f] = sum / channels;
        }
        return mono;
    }

    @Override
    public String toString() {
        return "PydubAudio[" + frames() + " frames, " + sampleRate + " Hz, " + channels + " ch]";
    }

    float[] samples() {
        return Arrays.copyOf(interleaved, interleaved.length);
    }
}
