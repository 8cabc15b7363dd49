package dev.timbre.audio;

/**
 * Limits enforced on every input before and after decoding.
 *
 * @param maxBytes   largest accepted encoded file
 * @param maxSeconds longest accepted recording
 */
public record AudioLimits(long maxBytes, double maxSeconds) {
    /** OpenVoice's reflect pad of 384 needs at least 385 samples after resampling. */
    public static final int MIN_SAMPLES = 385;

    public static final AudioLimits DEFAULT = new AudioLimits(50L * 1024 * 1024, 600.0);

    public AudioLimits {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be at least 1, was " + maxBytes);
        }
        if (!(maxSeconds > 0) || Double.isInfinite(maxSeconds)) {
            throw new IllegalArgumentException("maxSeconds must be a positive finite number, was " + maxSeconds);
        }
    }
}
