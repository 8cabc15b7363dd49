package dev.timbre.audio;

import java.util.Arrays;

/**
 * A growing mono float array for decoders that learn the length by decoding. It refuses to grow past the
 * seconds limit, so memory stays bounded by {@code 4 bytes × maxSeconds × sampleRate} whatever the file
 * claims. Not thread-safe; one per decode.
 */
final class MonoBuffer {
    private final DecodeContext context;
    private final long maxFrames;
    private float[] samples;
    private int size;

    MonoBuffer(DecodeContext context, int sampleRate, long expectedFrames) {
        this.context = context;
        this.maxFrames = Math.min(context.limits().maxFrames(sampleRate), Integer.MAX_VALUE - 16);
        long initial = expectedFrames > 0 ? Math.min(expectedFrames, maxFrames) : Math.min(1 << 16, maxFrames);
        this.samples = new float[(int) Math.max(initial, 16)];
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
            throw context.tooLongWhileDecoding();
        }
        long next = Math.min(Math.max(16, (long) samples.length * 2), maxFrames + 1);
        samples = Arrays.copyOf(samples, (int) Math.min(next, Integer.MAX_VALUE - 8));
    }
}
