package dev.timbre.audio;

import java.util.HashMap;
import java.util.Map;

/**
 * Band-limited resampling as {@code librosa.resample(y, orig_sr, target_sr, res_type='kaiser_best')} does it
 * in librosa 0.9.1: resampy's windowed-sinc interpolation, then {@code fix_length} to
 * {@code ceil(n·target/orig)} samples (zero padded).
 *
 * <p>The arithmetic is that of resampy 0.4's {@code _resample_loop} (interpn.py), operation for operation: output
 * sample t sits at input time {@code t · (1/ratio)}; the left and then the right wing are read from the table
 * with linear interpolation between table points; every product is formed in double and added to a float32
 * accumulator, which is what numba does for {@code y[t] += weight * x[n - i]} on a float32 output array. The
 * output is bit-identical to resampy 0.4.2 on the reference signals (ResamplerTest). resampy 0.2 accumulated
 * the output time by repeated addition instead; with {@link ResamplingFilter#KAISER_BEST_RESAMPY_0_2} this class
 * gives resampy 0.4's loop with the old filter.
 *
 * <p>Thread-safe: the table is computed once in the constructor and only read afterwards; each call works on
 * its own arrays. Share one instance.
 */
public final class Resampler {
    private final ResamplingFilter filter;
    /** Right wing plus a guard point (see {@link ResamplingFilter#rightWingWithGuard()}). */
    private final double[] wing;
    /** Points of the right wing proper, resampy's {@code nwin}. */
    private final int wingLength;
    private final int tableDensity;

    public Resampler(ResamplingFilter filter) {
        this.filter = filter;
        this.wing = filter.rightWingWithGuard();
        this.wingLength = wing.length - 1;
        this.tableDensity = filter.tableDensity();
    }

    public ResamplingFilter filter() {
        return filter;
    }

    /** The output length librosa 0.9.1 returns: {@code int(np.ceil(n * (float(target) / orig)))}. */
    public static long outputLength(long inputLength, int sourceRate, int targetRate) {
        double ratio = (double) targetRate / sourceRate;
        return (long) Math.ceil(inputLength * ratio);
    }

    /**
     * Resamples {@code samples} from {@code sourceRate} to {@code targetRate}. Equal rates return a copy.
     *
     * @return a new array of {@link #outputLength} samples
     * @throws IllegalArgumentException if a rate is not positive or the output would not fit in an array
     */
    public float[] resample(float[] samples, int sourceRate, int targetRate) {
        if (sourceRate <= 0 || targetRate <= 0) {
            throw new IllegalArgumentException(
                    "sample rates must be positive, were " + sourceRate + " and " + targetRate);
        }
        if (sourceRate == targetRate) {
            return samples.clone();
        }
        long fixedLength = outputLength(samples.length, sourceRate, targetRate);
        if (fixedLength > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("resampled length " + fixedLength + " does not fit in an array");
        }
        float[] out = new float[(int) fixedLength];
        // resampy's own length, "(n * float(sr_new)) / float(sr_orig)" truncated; fix_length pads the rest
        long resampyLength = (long) (samples.length * (double) targetRate / (double) sourceRate);
        int computed = (int) Math.min(resampyLength, fixedLength);
        if (computed > 0) {
            interpolate(samples, (double) targetRate / sourceRate, out, computed);
        }
        return out;
    }

    /** Most table positions one call keeps weights for; beyond it weights are computed tap by tap, as before. */
    private static final int MAX_PHASES = 1024;

    private void interpolate(float[] x, double ratio, float[] y, int outputCount) {
        final double scale = Math.min(1.0, ratio);
        final int indexStep = (int) (scale * tableDensity);
        final double timeIncrement = 1.0 / ratio;
        // The weights of an output sample depend only on where it falls between input samples (its frac). For the
        // usual rate pairs few distinct fracs occur (one for 44.1 -> 22.05 kHz), so each one's weights are computed
        // once per call, with resampy's operations, and reused: the same doubles as computing them tap by tap.
        Map<Long, double[][]> phases = new HashMap<>();
        // Each output's sum is a chain of float32 roundings that cannot be reordered; two outputs are computed
        // side by side so that the CPU overlaps their independent chains. Each keeps its own order exactly.
        Tap a = new Tap();
        Tap b = new Tap();
        int t = 0;
        for (; t + 1 < outputCount; t += 2) {
            a.position(t * timeIncrement, scale, x.length, indexStep);
            b.position((t + 1) * timeIncrement, scale, x.length, indexStep);
            double[][] wa = weights(phases, a, indexStep, ratio);
            double[][] wb = weights(phases, b, indexStep, ratio);
            double[] la = wa[0];
            double[] lb = wb[0];
            float accA = 0f;
            float accB = 0f;
            int common = Math.min(a.leftCount, b.leftCount);
            for (int i = 0; i < common; i++) {
                accA = (float) (accA + la[i] * x[a.n - i]);
                accB = (float) (accB + lb[i] * x[b.n - i]);
            }
            for (int i = common; i < a.leftCount; i++) {
                accA = (float) (accA + la[i] * x[a.n - i]);
            }
            for (int i = common; i < b.leftCount; i++) {
                accB = (float) (accB + lb[i] * x[b.n - i]);
            }
            double[] ra = wa[1];
            double[] rb = wb[1];
            common = Math.min(a.rightCount, b.rightCount);
            for (int i = 0; i < common; i++) {
                accA = (float) (accA + ra[i] * x[a.n + i + 1]);
                accB = (float) (accB + rb[i] * x[b.n + i + 1]);
            }
            for (int i = common; i < a.rightCount; i++) {
                accA = (float) (accA + ra[i] * x[a.n + i + 1]);
            }
            for (int i = common; i < b.rightCount; i++) {
                accB = (float) (accB + rb[i] * x[b.n + i + 1]);
            }
            y[t] = accA;
            y[t + 1] = accB;
        }
        if (t < outputCount) {
            a.position(t * timeIncrement, scale, x.length, indexStep);
            double[][] w = weights(phases, a, indexStep, ratio);
            float acc = 0f;
            for (int i = 0; i < a.leftCount; i++) {
                acc = (float) (acc + w[0][i] * x[a.n - i]);
            }
            for (int i = 0; i < a.rightCount; i++) {
                acc = (float) (acc + w[1][i] * x[a.n + i + 1]);
            }
            y[t] = acc;
        }
    }

    /**
     * The left and right wing weights of {@code tap}'s position, at least its counts long: cached per frac while the
     * cache has room; past that (rate pairs where nearly every output has its own frac) computed into the tap's own
     * arrays, so that no call allocates per output sample.
     */
    private double[][] weights(Map<Long, double[][]> phases, Tap tap, int indexStep, double ratio) {
        double[][] w = phases.get(tap.fracBits);
        if (w != null && w[0].length >= tap.leftCount && w[1].length >= tap.rightCount) {
            return w;
        }
        int left = Math.max((wingLength - tap.leftOffset) / indexStep, tap.leftCount);
        int right = Math.max((wingLength - tap.rightOffset) / indexStep, tap.rightCount);
        if (phases.size() < MAX_PHASES) {
            w = new double[][] {new double[left], new double[right]};
            phases.put(tap.fracBits, w);
        } else {
            if (tap.scratch[0].length < left) {
                tap.scratch[0] = new double[left];
            }
            if (tap.scratch[1].length < right) {
                tap.scratch[1] = new double[right];
            }
            w = tap.scratch;
        }
        for (int i = 0; i < left; i++) {
            w[0][i] = weight(tap.leftOffset + i * indexStep, tap.leftEta, ratio);
        }
        for (int i = 0; i < right; i++) {
            w[1][i] = weight(tap.rightOffset + i * indexStep, tap.rightEta, ratio);
        }
        return w;
    }

    /**
     * resampy's {@code interp_win[k] + eta * interp_delta[k]}. When downsampling resampy scales the whole table
     * by the ratio first; scaling the two points here gives the same doubles without a per-call table copy.
     */
    private double weight(int k, double eta, double ratio) {
        double w0 = wing[k];
        double w1 = wing[k + 1];
        if (ratio < 1) {
            w0 = ratio * w0;
            w1 = ratio * w1;
        }
        return w0 + eta * (w1 - w0);
    }

    /** Where one output sample reads the table: resampy's n, offsets, etas and wing lengths. */
    private final class Tap {
        int n;
        /** The bits of resampy's frac: the weights depend on nothing else. */
        long fracBits;
        /** Weights of this tap's position when the cache is full; reused from one output sample to the next. */
        final double[][] scratch = {new double[0], new double[0]};
        int leftOffset;
        double leftEta;
        int leftCount;
        int rightOffset;
        double rightEta;
        int rightCount;

        void position(double timeRegister, double scale, int inputLength, int indexStep) {
            n = (int) timeRegister;
            double frac = scale * (timeRegister - n);
            fracBits = Double.doubleToRawLongBits(frac);
            double indexFrac = frac * tableDensity;
            leftOffset = (int) indexFrac;
            leftEta = indexFrac - leftOffset;
            leftCount = Math.min(n + 1, (wingLength - leftOffset) / indexStep);

            frac = scale - frac;
            indexFrac = frac * tableDensity;
            rightOffset = (int) indexFrac;
            rightEta = indexFrac - rightOffset;
            rightCount = Math.min(inputLength - n - 1, (wingLength - rightOffset) / indexStep);
        }
    }
}
