package dev.timbre.audio;

/**
 * Band-limited resampling as {@code librosa.resample(y, orig_sr, target_sr, res_type='kaiser_best')} does it
 * in librosa 0.9.1: resampy's windowed-sinc interpolation, then {@code fix_length} to
 * {@code ceil(n·target/orig)} samples (zero padded).
 *
 * <p>The loop is a line-by-line port of resampy's {@code _resample_loop} (interpn.py): output sample t sits at
 * input time {@code t/ratio}; the left and right wings are read from the table with linear interpolation
 * between table points; every product is formed in double and added to a float32 accumulator, which is what
 * numba does for {@code y[t] += weight * x[n - i]} on a float32 output array. The result therefore matches
 * resampy to float32 rounding (see ResamplerTest for the measured error).
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
        final double[] win = wing;
        final int nwin = wingLength;
        final int numTable = tableDensity;
        final double scale = Math.min(1.0, ratio);
        // resampy multiplies the whole table by the ratio when downsampling; doing it per tap gives the same
        // doubles (the delta is the difference of the two scaled points) without a per-call table copy
        final boolean scaleTable = ratio < 1;
        final int indexStep = (int) (scale * numTable);
        final double timeIncrement = 1.0 / ratio;
        final int inputLength = x.length;

        for (int t = 0; t < outputCount; t++) {
            double timeRegister = t * timeIncrement;
            int n = (int) timeRegister;
            double frac = scale * (timeRegister - n);
            double indexFrac = frac * numTable;
            int offset = (int) indexFrac;
            double eta = indexFrac - offset;
            float acc = 0f;

            int iMax = Math.min(n + 1, (nwin - offset) / indexStep);
            for (int i = 0, k = offset; i < iMax; i++, k += indexStep) {
                double w0 = win[k];
                double w1 = win[k + 1];
                if (scaleTable) {
                    w0 = ratio * w0;
                    w1 = ratio * w1;
                }
                double weight = w0 + eta * (w1 - w0);
                acc = (float) (acc + weight * x[n - i]);
            }

            frac = scale - frac;
            indexFrac = frac * numTable;
            offset = (int) indexFrac;
            eta = indexFrac - offset;

            int kMax = Math.min(inputLength - n - 1, (nwin - offset) / indexStep);
            for (int i = 0, k = offset; i < kMax; i++, k += indexStep) {
                double w0 = win[k];
                double w1 = win[k + 1];
                if (scaleTable) {
                    w0 = ratio * w0;
                    w1 = ratio * w1;
                }
                double weight = w0 + eta * (w1 - w0);
                acc = (float) (acc + weight * x[n + i + 1]);
            }
            y[t] = acc;
        }
    }
}
