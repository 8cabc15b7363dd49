package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SpectrogramTest {
    private final Spectrogram openVoice = new Spectrogram(1024, 256);

    @Test
    void reflectPadMirrorsWithoutRepeatingTheEdgeSample() {
        Spectrogram small = new Spectrogram(8, 4); // pad 2
        float[] y = {0, 1, 2, 3, 4};

        assertArrayEquals(new float[] {2, 1, 0, 1, 2, 3, 4, 3, 2}, small.reflectPadded(y, 0, 9));
        assertArrayEquals(new float[] {1, 2, 3, 4}, small.reflectPadded(y, 3, 7), "a slice of the same");
    }

    @Test
    void everySliceOfTheReflectPadMatchesTheMirrorRule() {
        // The middle is one bulk copy and only the edges are mirrored sample by sample: every slice, including
        // those that start or end inside an edge or inside the signal, equals the per-sample rule.
        Spectrogram small = new Spectrogram(10, 4); // pad 3
        float[] y = {10, 11, 12, 13, 14, 15};
        int paddedLength = y.length + 6;
        for (int from = 0; from <= paddedLength; from++) {
            for (int to = from; to <= paddedLength; to++) {
                float[] expected = new float[to - from];
                for (int i = from; i < to; i++) {
                    int j = i - 3;
                    expected[i - from] = y[j < 0 ? -j : j >= y.length ? 2 * (y.length - 1) - j : j];
                }
                assertArrayEquals(expected, small.reflectPadded(y, from, to), from + ".." + to);
            }
        }
    }

    @Test
    void theReflectPadWrittenIntoLibtorchMemoryEqualsTheJavaOne() {
        Random random = new Random(5);
        float[] y = new float[5000];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) random.nextGaussian();
        }
        try (NDManager scope = TorchEngine.newManager()) {
            assertTrue(NativeFloats.available(scope), "the bundled libtorch exports the shim's empty_strided");
            long[][] slices = {{0, y.length + 768}, {0, 1000}, {256, 4000}, {4096, y.length + 768}, {100, 101}};
            for (long[] slice : slices) {
                NDArray array = openVoice.reflectPaddedArray(scope, y, slice[0], slice[1]);
                assertArrayEquals(openVoice.reflectPadded(y, slice[0], slice[1]), array.toFloatArray(),
                        slice[0] + ".." + slice[1]);
                assertEquals(scope, array.getManager(), "freed with the caller's scope");
            }
            assertThrows(IllegalArgumentException.class, () -> openVoice.reflectPaddedArray(scope, new float[384], 0,
                    384 + 768));
        }
    }

    @Test
    void reflectPadNeedsMoreSamplesThanThePad() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> openVoice.reflectPadded(new float[384], 0, 384 + 768));
        assertTrue(e.getMessage().contains("385"), e.getMessage());
        assertEquals(385, openVoice.minSamples());
    }

    @Test
    void frameCountsMatchOpenVoice() {
        assertEquals(1, openVoice.frames(385));
        assertEquals(2, openVoice.frames(662));
        assertEquals(86, openVoice.frames(22050));
        assertEquals(431, openVoice.frames(110373));
        assertArrayEquals(new long[] {256, 256 * 2 + 1024}, openVoice.sampleRange(1, 3));
    }

    @Test
    void silentBinsAreTheSquareRootOfTheEpsilon() {
        try (NDManager scope = TorchEngine.newManager()) {
            NDArray window = scope.hanningWindow(1024);
            float[] magnitude = openVoice.magnitude(scope, new float[512], 0, 512 + 768, window).toFloatArray();

            assertEquals(2 * 513, magnitude.length);
            for (float m : magnitude) {
                assertEquals(1e-3f, m, 1e-9f);
            }
        }
    }

    @Test
    void magnitudeMatchesADirectFourierSumWithEpsilonInsideTheRoot() {
        Random random = new Random(11);
        float[] y = new float[3000];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) (0.5 * Math.sin(i * 0.3) + 0.1 * random.nextGaussian());
        }
        float[] padded = openVoice.reflectPadded(y, 0, y.length + 768);
        int frames = openVoice.frames(y.length);

        try (NDManager scope = TorchEngine.newManager()) {
            NDArray spec = openVoice.magnitude(scope, y, 0, y.length + 768, scope.hanningWindow(1024));
            assertArrayEquals(new long[] {frames, 513}, spec.getShape().getShape(), "time-major");
            float[] got = spec.toFloatArray();
            double worst = 0;
            for (int t = 0; t < frames; t++) {
                for (int k = 0; k < 513; k += 7) {
                    double re = 0;
                    double im = 0;
                    for (int n = 0; n < 1024; n++) {
                        double w = 0.5 - 0.5 * Math.cos(2 * Math.PI * n / 1024); // periodic Hann
                        double x = w * padded[256 * t + n];
                        re += x * Math.cos(2 * Math.PI * k * n / 1024);
                        im -= x * Math.sin(2 * Math.PI * k * n / 1024);
                    }
                    double want = Math.sqrt(re * re + im * im + 1e-6);
                    worst = Math.max(worst, Math.abs(want - got[t * 513 + k]) / Math.max(1, want));
                }
            }
            // float32 FFT rounding is a few 1e-6 of the largest bins; a missing window, a wrong frame offset or a
            // centred STFT would be off by far more
            assertTrue(worst < 1e-5, "relative error " + worst);
        }
    }
}
