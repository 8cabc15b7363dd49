package dev.timbre.local;

/**
 * A synthetic speaker: what makes one demo voice sound unlike another.
 *
 * @param name      label shown in the demo
 * @param f0        mean pitch in Hz
 * @param formants  vocal-tract resonances in Hz (3 or more)
 * @param speed     syllable rate multiplier (1 = about 4 syllables per second)
 * @param breath    aspiration noise level, 0..1
 */
public record VoiceSpec(String name, double f0, double[] formants, double speed, double breath) {
    public VoiceSpec {
        if (f0 < 50 || f0 > 500) {
            throw new IllegalArgumentException("f0 must be within 50..500 Hz, was " + f0);
        }
        if (formants.length < 3) {
            throw new IllegalArgumentException("need at least 3 formants, got " + formants.length);
        }
        formants = formants.clone();
    }

    /** A handful of clearly distinct voices for the demo. */
    public static VoiceSpec[] demoVoices() {
        return new VoiceSpec[] {
            new VoiceSpec("alto", 190, new double[] {800, 1250, 2700}, 1.0, 0.05),
            new VoiceSpec("bass", 95, new double[] {600, 1000, 2400}, 0.8, 0.02),
            new VoiceSpec("tenor", 140, new double[] {700, 1150, 2550}, 1.2, 0.04),
            new VoiceSpec("soprano", 260, new double[] {900, 1500, 3000}, 1.1, 0.08),
            new VoiceSpec("whisper", 120, new double[] {650, 1700, 2800}, 0.9, 0.6),
        };
    }
}
