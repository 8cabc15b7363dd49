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

    /** Highest sample rate accepted from a file header (768 kHz is the highest rate real converters use). */
    public static final int MAX_SAMPLE_RATE = 768_000;

    /** Most channels accepted from a file header. */
    public static final int MAX_CHANNELS = 64;

    public AudioLimits {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be at least 1, was " + maxBytes);
        }
        if (!(maxSeconds > 0) || Double.isInfinite(maxSeconds)) {
            throw new IllegalArgumentException("maxSeconds must be a positive finite number, was " + maxSeconds);
        }
    }

    /** Whether {@code frames} at {@code sampleRate} last longer than {@link #maxSeconds()}. */
    public boolean isTooLong(long frames, int sampleRate) {
        return frames / (double) sampleRate > maxSeconds;
    }

    /** The most frames at {@code sampleRate} that are not {@link #isTooLong too long}. */
    public long maxFrames(int sampleRate) {
        double exact = Math.floor(maxSeconds * sampleRate);
        if (exact >= 0x1p52) {
            return 1L << 52; // far beyond any array; the byte limit binds first
        }
        long frames = (long) exact;
        while (isTooLong(frames, sampleRate)) { // floor of a rounded product can be one too many
            frames--;
        }
        while (!isTooLong(frames + 1, sampleRate)) {
            frames++;
        }
        return frames;
    }
}
