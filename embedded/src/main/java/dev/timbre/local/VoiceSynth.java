package dev.timbre.local;

import java.util.SplittableRandom;

/**
 * Makes voice-like audio for the demo: a glottal pulse train with vibrato and intonation, shaped by formant
 * resonators, broken into syllables by an amplitude envelope, plus breath noise. It is not speech, but pitch,
 * formants and rhythm give each {@link VoiceSpec} its own spectral colour, so the demo's similarity matrix has
 * structure. Deterministic for a given seed. Stateless and thread-safe.
 */
public final class VoiceSynth {

    private final int sampleRate;

    public VoiceSynth(int sampleRate) {
        this.sampleRate = sampleRate;
    }

    public float[] synthesize(VoiceSpec voice, double seconds, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int n = (int) Math.round(seconds * sampleRate);
        double[] source = new double[n];
        double phase = 0;
        double syllableHz = 4.0 * voice.speed();
        double intonationPhase = random.nextDouble() * 2 * Math.PI;
        for (int i = 0; i < n; i++) {
            double t = (double) i / sampleRate;
            double f = voice.f0() * (1 + 0.03 * Math.sin(2 * Math.PI * 5.5 * t)
                    + 0.08 * Math.sin(2 * Math.PI * 0.4 * t + intonationPhase));
            phase += f / sampleRate;
            phase -= Math.floor(phase);
            // Rosenberg-like glottal pulse: smooth opening, sharper closing.
            double pulse = phase < 0.4 ? 0.5 * (1 - Math.cos(Math.PI * phase / 0.4))
                    : phase < 0.6 ? Math.cos(Math.PI * (phase - 0.4) / 0.4) : 0;
            double noise = random.nextDouble() * 2 - 1;
            source[i] = (1 - voice.breath()) * (pulse - 0.3) + voice.breath() * noise;
        }
        double[] voiced = new double[n];
        double[] bandwidths = {80, 100, 140, 180, 220};
        for (int k = 0; k < voice.formants().length; k++) {
            resonate(source, voiced, voice.formants()[k], bandwidths[Math.min(k, bandwidths.length - 1)],
                    1.0 / (k + 1));
        }
        float[] out = new float[n];
        double peak = 1e-9;
        for (int i = 0; i < n; i++) {
            double t = (double) i / sampleRate;
            double syllable = Math.pow(Math.max(0, Math.sin(Math.PI * syllableHz * t)), 0.6);
            double edge = Math.min(1, Math.min(t, seconds - t) / 0.02);
            voiced[i] *= syllable * edge;
            peak = Math.max(peak, Math.abs(voiced[i]));
        }
        for (int i = 0; i < n; i++) {
            out[i] = (float) (0.7 * voiced[i] / peak);
        }
        return out;
    }

    /** Adds the output of a two-pole resonator at {@code freq} with {@code bandwidth} to {@code out}. */
    private void resonate(double[] in, double[] out, double freq, double bandwidth, double gain) {
        double r = Math.exp(-Math.PI * bandwidth / sampleRate);
        double a1 = 2 * r * Math.cos(2 * Math.PI * freq / sampleRate);
        double a2 = -r * r;
        double y1 = 0;
        double y2 = 0;
        for (int i = 0; i < in.length; i++) {
            double y = (1 - r) * in[i] + a1 * y1 + a2 * y2;
            y2 = y1;
            y1 = y;
            out[i] += gain * y;
        }
    }
}
