package dev.timbre.vad;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link SpeechDetector} of OpenVoice's get-se path: whisper-timestamped's {@code get_vad_segments} (method
 * "silero", min speech 0.1 s, min silence 1 s, dilatation 0.5 s) over Silero VAD v6.2. Float32 arithmetic where
 * the Python is float32 (the samples, the volume normalisation), so the probabilities match the reference
 * (SileroVadReferenceTest). Owns one ONNX session: one per worker thread, closed with it.
 */
public final class SileroSpeechDetector implements SpeechDetector {

    /** 0.5 s at 16 kHz: whisper-timestamped's {@code round(dilatation * sample_rate)}. */
    static final long DILATATION = 8_000;

    private final SileroVad vad;
    private final SpeechTimestamps timestamps = SpeechTimestamps.openVoice();

    SileroSpeechDetector(SileroVad vad) {
        this.vad = vad;
    }

    /** With the model built into the class path; throws {@link VadModelException} when it is missing or bad. */
    public static SileroSpeechDetector open() {
        return new SileroSpeechDetector(SileroVad.open());
    }

    /** With a model file elsewhere. */
    public static SileroSpeechDetector open(Path model) {
        return new SileroSpeechDetector(SileroVad.open(model));
    }

    @Override
    public List<double[]> speechSegments(short[] pcm16k) {
        List<SpeechTimestamps.Segment> samples = speechSamples(pcm16k);
        List<double[]> seconds = new ArrayList<>(samples.size());
        for (SpeechTimestamps.Segment s : samples) {
            seconds.add(new double[] {(double) s.start() / SileroVad.SAMPLE_RATE,
                (double) s.end() / SileroVad.SAMPLE_RATE});
        }
        return seconds;
    }

    /** The dilated, merged segments in samples (OpenVoice's {@code output_sample=True}). */
    List<SpeechTimestamps.Segment> speechSamples(short[] pcm16k) {
        if (pcm16k.length == 0) {
            return List.of();
        }
        float[] audio = normalised(pcm16k);
        return dilate(timestamps.segments(vad.probabilities(audio), audio.length), audio.length);
    }

    /** {@code x / 32768} (whisper's load_audio), then {@code audio / max(0.1, audio.abs().max())}, in float32. */
    static float[] normalised(short[] pcm16k) {
        float[] audio = new float[pcm16k.length];
        float peak = 0f;
        for (int i = 0; i < pcm16k.length; i++) {
            audio[i] = pcm16k[i] / 32768.0f;
            peak = Math.max(peak, Math.abs(audio[i]));
        }
        // torch divides a float32 tensor by a Python float in float32: 0.1 becomes 0.1f
        float divisor = Math.max(0.1f, peak);
        for (int i = 0; i < audio.length; i++) {
            audio[i] = audio[i] / divisor;
        }
        return audio;
    }

    /** Each segment widened by 0.5 s, clipped to the audio; a segment touching or overlapping the last is merged. */
    static List<SpeechTimestamps.Segment> dilate(List<SpeechTimestamps.Segment> segments, long audioLength) {
        List<SpeechTimestamps.Segment> merged = new ArrayList<>(segments.size());
        for (SpeechTimestamps.Segment s : segments) {
            long start = Math.max(0, s.start() - DILATATION);
            long end = Math.min(audioLength, s.end() + DILATATION);
            int last = merged.size() - 1;
            if (last >= 0 && merged.get(last).end() >= start) {
                merged.set(last, new SpeechTimestamps.Segment(merged.get(last).start(), end));
            } else {
                merged.add(new SpeechTimestamps.Segment(start, end));
            }
        }
        return merged;
    }

    @Override
    public void close() {
        vad.close();
    }
}
