package dev.timbre.audio;

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

    private void interpolate(float[] x, double ratio, float[] y, int outputCount) {
        final double scale = Math.min(1.0, ratio);
        final int indexStep = (int) (scale * tableDensity);
        final double timeIncrement = 1.0 / ratio;
        // Each output's sum is a chain of float32 roundings that cannot be reordered; two outputs are computed
        // side by side so that the CPU overlaps their independent chains. Each keeps its own order exactly.
        Tap a = new Tap();
        Tap b = new Tap();
        int t = 0;
        for (; t + 1 < outputCount; t += 2) {
            a.position(t * timeIncrement, scale, x.length, indexStep);
            b.position((t + 1) * timeIncrement, scale, x.length, indexStep);
            float accA = 0f;
            float accB = 0f;
            int common = Math.min(a.leftCount, b.leftCount);
            for (int i = 0; i < common; i++) {
                accA = (float) (accA + weight(a.leftOffset + i * indexStep, a.leftEta, ratio) * x[a.n - i]);
                accB = (float) (accB + weight(b.leftOffset + i * indexStep, b.leftEta, ratio) * x[b.n - i]);
            }
            accA = left(x, a, common, accA, indexStep, ratio);
            accB = left(x, b, common, accB, indexStep, ratio);
            common = Math.min(a.rightCount, b.rightCount);
            for (int i = 0; i < common; i++) {
                accA = (float) (accA + weight(a.rightOffset + i * indexStep, a.rightEta, ratio) * x[a.n + i + 1]);
                accB = (float) (accB + weight(b.rightOffset + i * indexStep, b.rightEta, ratio) * x[b.n + i + 1]);
            }
            y[t] = right(x, a, common, accA, indexStep, ratio);
            y[t + 1] = right(x, b, common, accB, indexStep, ratio);
        }
        if (t < outputCount) {
            a.position(t * timeIncrement, scale, x.length, indexStep);
            y[t] = right(x, a, 0, left(x, a, 0, 0f, indexStep, ratio), indexStep, ratio);
        }
    }

    /** Continues the left wing of {@code tap} from tap {@code from}. */
    private float left(float[] x, Tap tap, int from, float acc, int indexStep, double ratio) {
        for (int i = from; i < tap.leftCount; i++) {
            acc = (float) (acc + weight(tap.leftOffset + i * indexStep, tap.leftEta, ratio) * x[tap.n - i]);
        }
        return acc;
    }

    /** Continues the right wing of {@code tap} from tap {@code from}. */
    private float right(float[] x, Tap tap, int from, float acc, int indexStep, double ratio) {
        for (int i = from; i < tap.rightCount; i++) {
            acc = (float) (acc + weight(tap.rightOffset + i * indexStep, tap.rightEta, ratio) * x[tap.n + i + 1]);
        }
        return acc;
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
        int leftOffset;
        double leftEta;
        int leftCount;
        int rightOffset;
        double rightEta;
        int rightCount;

        void position(double timeRegister, double scale, int inputLength, int indexStep) {
            n = (int) timeRegister;
            double frac = scale * (timeRegister - n);
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
