package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RealViewTest {

    /** An STFT as the spectrogram takes it: [bins, T] complex, a transposed view of a time-major buffer. */
    private static NDArray stft(NDManager scope) {
        Random random = new Random(5);
        float[] y = new float[4096];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) random.nextGaussian();
        }
        return scope.create(y).stft(1024, 256, false, scope.hanningWindow(1024), false, true);
    }

    @Test
    void holdsTheSameValuesAsDjlsCopyInTheSameShape() {
        try (NDManager scope = TorchEngine.newManager()) {
            NDArray complex = stft(scope).transpose();

            NDArray view = RealView.of(complex);
            NDArray copy = complex.real();

            assertEquals(DataType.FLOAT32, view.getDataType());
            assertEquals(copy.getShape(), view.getShape());
            assertArrayEquals(copy.toFloatArray(), view.toFloatArray());
        }
    }

    @Test
    void isAViewOfTheComplexArraysMemory() {
        try (NDManager scope = TorchEngine.newManager()) {
            NDArray complex = stft(scope).transpose();
            NDArray view = RealView.of(complex);

            // writing through the view changes the complex array: no copy was made
            view.muli(0f);

            float[] parts = complex.real().toFloatArray();
            for (float part : parts) {
                assertEquals(0f, part, 0f); // -0 included: a negative part times 0
            }
        }
    }
}
