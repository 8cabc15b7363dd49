package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * OpenVoice {@code spectrogram_torch} with {@code center=False}: reflect pad of (n_fft − hop)/2 per side, STFT
 * with a periodic Hann window, linear magnitude {@code sqrt(re² + im² + 1e-6)} (epsilon inside the root, so a
 * silent bin is 1e-3, not 0).
 *
 * <p>Stateless; thread-safe. Arrays it returns belong to the manager passed in.
 */
final class Spectrogram {
    /** Inside the square root, as OpenVoice: {@code torch.sqrt(spec.pow(2).sum(-1) + 1e-6)}. */
    static final float MAGNITUDE_EPSILON = 1e-6f;

    private final int nFft;
    private final int hop;
    private final int pad;

    Spectrogram(int nFft, int hop) {
        if (nFft <= hop || (nFft - hop) % 2 != 0) {
            throw new IllegalArgumentException("n_fft " + nFft + " and hop " + hop + " give no whole reflect pad");
        }
        this.nFft = nFft;
        this.hop = hop;
        this.pad = (nFft - hop) / 2;
    }

    int bins() {
        return nFft / 2 + 1;
    }

    /** The shortest input the reflect pad accepts: pad + 1 samples (385 for OpenVoice). */
    int minSamples() {
        return pad + 1;
    }

    /** Frames for {@code samples} samples: {@code 1 + (L + 2·pad − n_fft) / hop}. */
    int frames(long samples) {
        return Math.toIntExact(1 + (samples + 2L * pad - nFft) / hop);
    }

    /**
     * NumPy/torch "reflect" padding: the edge sample is not repeated,
     * {@code [y[p] … y[1], y[0] … y[L−1], y[L−2] … y[L−1−p]]}. Built in Java because DJL's {@code pad} is
     * constant-only; copying indices is exact by construction.
     */
    float[] reflectPad(float[] y) {
        if (y.length < minSamples()) {
            throw new IllegalArgumentException(
                    "need at least " + minSamples() + " samples for the reflect pad of " + pad + ", got " + y.length);
        }
        int n = y.length;
        float[] padded = new float[n + 2 * pad];
        for (int i = 0; i < pad; i++) {
            padded[i] = y[pad - i];
            padded[pad + n + i] = y[n - 2 - i];
        }
        System.arraycopy(y, 0, padded, pad, n);
        return padded;
    }

    /**
     * Magnitude spectrogram of already padded samples, time-major.
     *
     * @param scope  the per-call manager; the result and all temporaries attach to it
     * @param padded output of {@link #reflectPad}, or any slice of it that starts on a frame boundary
     * @param window periodic Hann of length n_fft (read only)
     * @return {@code [T, n_fft/2+1]} float32
     */
    NDArray magnitude(NDManager scope, float[] padded, NDArray window) {
        NDArray signal = scope.create(padded);
        // center=false: the caller's reflect pad is the only padding, as in spectrogram_torch.
        NDArray complex = signal.stft(nFft, hop, false, window, false, true);
        // real() is view_as_real: [bins, T, 2]. Sum of squares, then + eps, then sqrt: OpenVoice's order.
        NDArray power = complex.real().square().sum(new int[] {2});
        return power.add(MAGNITUDE_EPSILON).sqrt().transpose();
    }

    Shape shapeFor(long samples) {
        return new Shape(frames(samples), bins());
    }
}
