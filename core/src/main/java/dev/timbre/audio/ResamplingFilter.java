package dev.timbre.audio;

/**
 * A resampy-style windowed-sinc interpolation filter: the right wing of {@code rolloff·sinc(rolloff·x)}
 * tapered by a Kaiser window, tabulated at {@code 2^precisionBits} points per zero crossing.
 *
 * <p>resampy changed its {@code kaiser_best} in 0.3.0 (June 2022). librosa 0.9.1 (pinned by OpenVoice) only
 * asks for {@code resampy >= 0.2.2}, so an OpenVoice install resolves the current resampy (0.4.x) and its
 * {@link #KAISER_BEST}; {@link #KAISER_BEST_RESAMPY_0_2} is the filter of the older releases.
 *
 * @param numZeros      zero crossings kept on each side
 * @param precisionBits log2 of the table points per zero crossing
 * @param beta          Kaiser window shape
 * @param rolloff       cut-off as a fraction of the lower Nyquist frequency
 */
public record ResamplingFilter(int numZeros, int precisionBits, double beta, double rolloff) {

    /** resampy ≥ 0.3 {@code kaiser_best} (data/kaiser_best.npz; the table matches it to 3.3e-16). */
    public static final ResamplingFilter KAISER_BEST = new ResamplingFilter(50, 13, 12.9846, 0.917347);

    /** resampy 0.2.x {@code kaiser_best}. */
    public static final ResamplingFilter KAISER_BEST_RESAMPY_0_2 =
            new ResamplingFilter(64, 9, 14.769656459379492, 0.9475937167399596);

    public ResamplingFilter {
        if (numZeros < 1 || numZeros > 1024) {
            throw new IllegalArgumentException("numZeros must be in 1..1024, was " + numZeros);
        }
        if (precisionBits < 1 || precisionBits > 16) {
            throw new IllegalArgumentException("precisionBits must be in 1..16, was " + precisionBits);
        }
        if (!(beta >= 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("beta must be a finite number >= 0, was " + beta);
        }
        if (!(rolloff > 0 && rolloff <= 1)) {
            throw new IllegalArgumentException("rolloff must be in (0, 1], was " + rolloff);
        }
    }

    /** Table points per zero crossing (resampy's {@code precision}/{@code num_table}). */
    public int tableDensity() {
        return 1 << precisionBits;
    }

    /**
     * The right wing, {@code numZeros·2^precisionBits + 1} points, plus one repeat of the last point so that
     * {@code w[k+1] - w[k]} is resampy's {@code interp_delta} (whose last value is 0) for every k of the wing.
     * Computed in double exactly as resampy's {@code sinc_window}: {@code np.linspace}, {@code np.sinc} and
     * scipy's symmetric Kaiser window of length {@code 2n+1}, right half.
     */
    double[] rightWingWithGuard() {
        int density = tableDensity();
        int n = density * numZeros;
        double[] wing = new double[n + 2];
        double step = (double) numZeros / n; // linspace(0, numZeros, n + 1): i * step, last point exact
        double i0Beta = besselI0(beta);
        for (int i = 0; i <= n; i++) {
            double x = (i == n) ? numZeros : i * step;
            double sinc = sinc(rolloff * x);
            double r = (double) i / n; // (k - alpha) / alpha of the symmetric window, k = n + i, alpha = n
            double taper = besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
            wing[i] = taper * (rolloff * sinc);
        }
        wing[n + 1] = wing[n];
        return wing;
    }

    private static double sinc(double x) {
        double y = Math.PI * (x == 0 ? 1.0e-20 : x); // np.sinc's own guard
        return Math.sin(y) / y;
    }

    /** Modified Bessel function of the first kind, order 0, by its power series (converges for all x). */
    static double besselI0(double x) {
        double quarterSquare = x * x / 4;
        double term = 1;
        double sum = 1;
        for (int k = 1; k < 500; k++) {
            term *= quarterSquare / ((double) k * k);
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
        }
        return sum;
    }
}
