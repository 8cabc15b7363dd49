package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
     * Samples {@code [from, to)} of the reflect-padded signal, without building the whole padded copy.
     * NumPy/torch "reflect" padding: the edge sample is not repeated,
     * {@code [y[p] … y[1], y[0] … y[L−1], y[L−2] … y[L−1−p]]}. Done in Java because DJL's {@code pad} is
     * constant-only; copying by index is exact by construction.
     *
     * @param y    the unpadded signal, at least {@link #minSamples()} long
     * @param from first index into the padded signal (0 = first left-pad sample)
     * @param to   end index, at most {@code y.length + 2·pad}
     */
    float[] reflectPadded(float[] y, long from, long to) {
        float[] out = new float[Math.toIntExact(to - from)];
        reflectPadInto(y, from, to, MemorySegment.ofArray(out));
        return out;
    }

    /**
     * {@link #reflectPadded} as a libtorch array in {@code scope}: written straight into the array's memory where
     * {@link NativeFloats} can, else through DJL's copy of a Java array.
     */
    NDArray reflectPaddedArray(NDManager scope, float[] y, long from, long to) {
        if (!NativeFloats.available(scope)) {
            return scope.create(reflectPadded(y, from, to));
        }
        NativeFloats.Writable signal = NativeFloats.create(scope, to - from); // freed with scope if y is refused
        reflectPadInto(y, from, to, signal.data());
        return signal.array();
    }

    /** Writes padded samples {@code [from, to)} to {@code out}, {@code to − from} floats. */
    private void reflectPadInto(float[] y, long from, long to, MemorySegment out) {
        if (y.length < minSamples()) {
            throw new IllegalArgumentException(
                    "need at least " + minSamples() + " samples for the reflect pad of " + pad + ", got " + y.length);
        }
        int n = y.length;
        int length = Math.toIntExact(to - from);
        // the part inside y is one bulk copy; only the mirrored edges go sample by sample
        long insideFrom = Math.max(from, pad);
        long insideTo = Math.min(to, (long) pad + n);
        if (insideTo > insideFrom) {
            MemorySegment.copy(y, (int) (insideFrom - pad), out, ValueLayout.JAVA_FLOAT,
                    (insideFrom - from) * Float.BYTES, (int) (insideTo - insideFrom));
        }
        for (int i = 0; i < length; i++) {
            long j = from + i - pad; // index into y, possibly outside
            if (j >= 0 && j < n) {
                i = (int) (pad + n - from) - 1; // skip the copied middle: the next index is past y's end
                continue;
            }
            j = j < 0 ? -j : 2L * (n - 1) - j;
            out.setAtIndex(ValueLayout.JAVA_FLOAT, i, y[(int) j]);
        }
    }

    /** Padded-signal sample range {@code [from, to)} that frames {@code [firstFrame, endFrame)} read. */
    long[] sampleRange(int firstFrame, int endFrame) {
        return new long[] {(long) firstFrame * hop, (long) (endFrame - 1) * hop + nFft};
    }

    /**
     * Magnitude spectrogram of the reflect-padded samples {@code [from, to)} of {@code y}, time-major.
     *
     * @param scope  the per-call manager; the result and all temporaries attach to it
     * @param y      the unpadded signal, at least {@link #minSamples()} long
     * @param from   first index into the padded signal, on a frame boundary ({@link #sampleRange})
     * @param to     end index into the padded signal
     * @param window periodic Hann of length n_fft (read only)
     * @return {@code [T, n_fft/2+1]} float32, contiguous
     */
    NDArray magnitude(NDManager scope, float[] y, long from, long to, NDArray window) {
        NDArray signal = reflectPaddedArray(scope, y, from, to);
        // center=false: the reflect pad is the only padding, as in spectrogram_torch. torch returns the
        // [bins, T] result as a transposed view of a time-major buffer, so transposing back is free.
        NDArray stft = signal.stft(nFft, hop, false, window, false, true);
        signal.close();
        NDArray complex = stft.transpose();
        stft.close(); // a view (complex) keeps the storage: closing a handle only drops a reference
        NDArray reIm = RealView.of(complex); // [T, bins, 2], contiguous: the time-major buffer itself
        complex.close();
        // NDIndex is mutable (addIndices), so each call builds its own rather than sharing one across threads
        NDArray re = reIm.get(new NDIndex(":, :, 0"));
        NDArray im = reIm.get(new NDIndex(":, :, 1"));
        reIm.close();
        // re² + im², then + eps, then sqrt: OpenVoice's order. Two strided views instead of sum(-1) over a
        // size-2 axis, which libtorch reduces about 4x slower; values agree to 1 ulp. In-place adds and eager
        // closes keep one call's temporaries to a few arrays instead of every intermediate until the scope closes.
        NDArray power = re.square();
        re.close();
        NDArray imSquared = im.square();
        im.close();
        power.addi(imSquared).addi(MAGNITUDE_EPSILON);
        imSquared.close();
        NDArray magnitude = power.sqrt();
        power.close();
        return magnitude;
    }
}
