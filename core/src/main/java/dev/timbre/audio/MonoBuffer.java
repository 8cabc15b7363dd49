package dev.timbre.audio;

import java.util.Arrays;

/**
 * A growing mono float array for decoders that learn the length by decoding. It refuses to grow past the
 * seconds limit, so memory stays bounded by {@code 4 bytes × maxSeconds × sampleRate} whatever the file
 * claims; and it grows only with the samples actually decoded: a length a header declares presizes the array at
 * most to {@link #PRESIZE_FRAMES_PER_BYTE} frames per byte of the file, so a 200-byte file that claims ten
 * minutes costs a few KiB, not the 1.8 GB the claim would. Not thread-safe; one per decode.
 */
final class MonoBuffer {
    /**
     * Real compressed audio holds at most a few frames per byte (MP3 at 32 kbit/s mono: 5.5; FLAC of speech: about
     * 1); a header declaring more is either silence (rare, and then the array grows by doubling) or a lie.
     */
    static final int PRESIZE_FRAMES_PER_BYTE = 8;
    private static final int MIN_CAPACITY = 16;
    private static final int UNKNOWN_LENGTH_CAPACITY = 1 << 16;

    private final DecodeContext context;
    private final long maxFrames;
    private final long declaredFrames;
    private final int sampleRate;
    private float[] samples;
    private int size;

    /** @param declaredFrames the length a header declares, a hint only; 0 or less when unknown */
    MonoBuffer(DecodeContext context, int sampleRate, long declaredFrames) {
        this(context, sampleRate, declaredFrames, 1);
    }

    /**
     * A buffer of {@code samplesPerFrame} values per frame (interleaved channels), with the same limits counted
     * in frames.
     */
    MonoBuffer(DecodeContext context, int sampleRate, long declaredFrames, int samplesPerFrame) {
        this.context = context;
        this.declaredFrames = declaredFrames;
        this.sampleRate = sampleRate;
        this.maxFrames = Math.min(context.limits().maxFrames(sampleRate) * samplesPerFrame,
                Integer.MAX_VALUE - 16);
        long presizeLimit = Math.min(maxFrames,
                (long) context.bytesPresent() * PRESIZE_FRAMES_PER_BYTE * samplesPerFrame);
        long wanted = declaredFrames > 0 ? declaredFrames * samplesPerFrame : UNKNOWN_LENGTH_CAPACITY;
        this.samples = new float[(int) Math.max(MIN_CAPACITY, Math.min(wanted, presizeLimit))];
    }

    void add(float sample) {
        if (size == samples.length) {
            grow();
        }
        samples[size++] = sample;
    }

    int size() {
        return size;
    }

    float[] toArray() {
        return size == samples.length ? samples : Arrays.copyOf(samples, size);
    }

    private void grow() {
        if (size >= maxFrames) {
            // past the limit: the file is too long whether or not it holds all it declares; a declared length
            // is the more useful number when the frames decoded so far are consistent with it
            if (declaredFrames > context.limits().maxFrames(sampleRate)) {
                context.checkLength(declaredFrames, sampleRate);
            }
            throw context.tooLongWhileDecoding();
        }
        long next = Math.min(Math.max(MIN_CAPACITY, (long) samples.length * 2), maxFrames + 1);
        samples = Arrays.copyOf(samples, (int) Math.min(next, Integer.MAX_VALUE - 8));
    }
}
