package dev.timbre.tone.checkpoint;

import java.util.Arrays;

/**
 * A float32 tensor read from a checkpoint, contiguous in row-major (C) order.
 *
 * @param name  state_dict key, for example {@code ref_enc.gru.weight_ih_l0}
 * @param shape dimensions, outermost first; empty for a scalar
 * @param data  {@code product(shape)} values in row-major order
 */
public record Tensor(String name, long[] shape, float[] data) {
    public Tensor {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(
                    name + ": shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
