package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

/**
 * OpenVoice {@code ReferenceEncoder} forward ({@code models.py:341-359}) on shared read-only weights:
 * LayerNorm over the bins, 6 × (conv 3×3 stride 2 pad 1 + ReLU, per time block: {@link TimeBlocks}),
 * channel-major flatten to {@code [T', C·F']}, GRU with h0 = 0 keeping only the final hidden state, linear
 * projection, no activation.
 *
 * <p>Stateless; thread-safe. Each op takes the per-call activation as its first operand, so results attach
 * to the caller's manager and never to the weights' manager.
 */
final class ReferenceEncoder {
    static final float LAYER_NORM_EPS = 1e-5f;
    /** Convs that run in sub-blocks of a time block (see {@link #features}). */
    static final int EARLY_LAYERS = 2;
    /**
     * Layer-2 rows per sub-block: 32 rows read about 130 spectrogram frames (1.5 s). 16–32 rows ran conv 2 at
     * about 90 GFLOP/s; fewer rows cost more calls and more halo rows.
     */
    static final int DEFAULT_EARLY_ROWS = 32;
    private static final Shape STRIDE = new Shape(2, 2);
    private static final Shape PADDING = new Shape(1, 1);
    private static final Shape DILATION = new Shape(1, 1);

    private static final FusedConvRelu FUSED = new FusedConvRelu(STRIDE.getShape(), PADDING.getShape(),
            DILATION.getShape());

    private final ToneColorWeights weights;
    private final boolean fuseConvRelu;

    /**
     * @param fuseConvRelu run each conv and its ReLU as one oneDNN op where libtorch offers it
     *                     ({@link FusedConvRelu}); false runs DJL's conv and ReLU (benchmarks compare the two)
     */
    ReferenceEncoder(ToneColorWeights weights, boolean fuseConvRelu) {
        this.weights = weights;
        // decided once: the weights' device and the loaded libtorch do not change, and activations live where the
        // weights do (the convs would fail otherwise)
        this.fuseConvRelu = fuseConvRelu && FusedConvRelu.available(weights.convWeight[0], weights.convBias[0]);
    }

    /**
     * Normalised and convolved features of one time block.
     *
     * <p>The first {@link #EARLY_LAYERS} convs run over sub-blocks of about {@code earlyRows} layer-2 rows
     * (the same halo rule as {@link TimeBlocks}, one level down): their activations are the largest (the first
     * conv's output is 32 × T/2 × 257 floats, 14 MB for 10 s) and libtorch's conv 2 ran at 33–59 GFLOP/s on a
     * whole 10 s block but at about 90 GFLOP/s on 64–128-frame inputs, whose layer-1 output of 1–2 MB stays
     * close to the core (1 MB L2 per core, 32 MB L3 shared with every other process; measured on the 2-core
     * EPYC, 1 thread; docs/benchmarks.md, efficiency). The deeper
     * convs are the other way round, faster on taller inputs, so they keep the whole block.
     *
     * @param spec      spectrogram frames {@code ranges[0]}, {@code [rows, bins]}
     * @param blocks    the time axis of this recording
     * @param ranges    rows of every layer this block produces ({@link TimeBlocks#rangesFor})
     * @param earlyRows layer-{@value #EARLY_LAYERS} rows per sub-block; {@link Integer#MAX_VALUE} for none
     * @return final conv rows {@code ranges[6]} as {@code [rows', C·F']} (channel-major: feature index
     *         {@code c·F' + f}), in spec's manager
     */
    NDArray features(NDArray spec, TimeBlocks blocks, int[][] ranges, int earlyRows) {
        long frames = spec.getShape().get(0);
        long bins = spec.getShape().get(1);
        NDArray spec4 = spec.reshape(1, 1, frames, bins);
        NDArray normed = LayerNorm.layerNorm(spec4, new Shape(bins),
                weights.layerNormGamma, weights.layerNormBeta, LAYER_NORM_EPS).singletonOrThrow();
        spec4.close();
        NDArray x = earlyLayers(normed, blocks, ranges, earlyRows);
        normed.close();
        for (int k = EARLY_LAYERS + 1; k <= ToneColorWeights.CONV_LAYERS; k++) {
            NDArray next = conv(x, k, ranges);
            x.close();
            x = next;
        }
        // [1, C, T', F'] -> [1, T', C, F'] -> [T', C·F']: models.py:351-354
        Shape s = x.getShape();
        NDArray transposed = x.transpose(0, 2, 1, 3);
        NDArray flat = transposed.reshape(s.get(2), s.get(1) * s.get(3));
        x.close();
        transposed.close();
        return flat;
    }

    /** Layers 1..{@value #EARLY_LAYERS} of one block, in sub-blocks of about {@code earlyRows} output rows. */
    private NDArray earlyLayers(NDArray normed, TimeBlocks blocks, int[][] ranges, int earlyRows) {
        int first = ranges[EARLY_LAYERS][0];
        int rows = ranges[EARLY_LAYERS][1] - first;
        // Near-equal parts, none under half of earlyRows: a one- or two-row conv input would make libtorch pick
        // another kernel (TimeBlocks#blocks), and a short part costs a call for little work. Below three parts'
        // worth (about 4 s of audio) the block runs whole: its activations are small enough, and splitting a
        // 3 s clip measured slightly slower (0.95-0.97x, bench/efficiency.sh).
        int parts = rows < 3L * earlyRows ? 1
                : (int) Math.max(1, Math.min(rows, Math.round((double) rows / Math.max(1, earlyRows))));
        if (parts == 1) {
            NDArray x = conv(normed, 1, ranges);
            for (int k = 2; k <= EARLY_LAYERS; k++) {
                NDArray next = conv(x, k, ranges);
                x.close();
                x = next;
            }
            return x;
        }
        NDList outputs = new NDList(parts);
        for (int p = 0; p < parts; p++) {
            int a = first + (int) ((long) rows * p / parts);
            int b = first + (int) ((long) rows * (p + 1) / parts);
            int[][] sub = blocks.rangesFor(EARLY_LAYERS, a, b);
            // a time slice of [1, 1, frames, bins] is contiguous: no copy
            NDArray x = normed.get(new NDIndex(":, :, {}:{}", sub[0][0] - ranges[0][0], sub[0][1] - ranges[0][0]));
            for (int k = 1; k <= EARLY_LAYERS; k++) {
                NDArray next = conv(x, k, sub);
                x.close();
                x = next;
            }
            outputs.add(x);
        }
        NDArray joined = NDArrays.concat(outputs, 2);
        outputs.close();
        return joined;
    }

    /**
     * Conv k + ReLU (one fused op where {@link FusedConvRelu} is available) over input rows {@code ranges[k-1]},
     * cropped to output rows {@code ranges[k]}. The caller still owns (and closes) {@code input}; temporaries are
     * closed here, so a call holds at most its input, one conv output and its ReLU at a time rather than every
     * activation until the block's scope closes.
     */
    private NDArray conv(NDArray input, int k, int[][] ranges) {
        NDArray weight = weights.convWeight[k - 1];
        NDArray bias = weights.convBias[k - 1];
        NDArray x;
        if (fuseConvRelu) {
            x = FUSED.apply(input, weight, bias);
        } else {
            NDArray convolved = Conv2d.conv2d(input, weight, bias, STRIDE, PADDING, DILATION).singletonOrThrow();
            x = Activation.relu(convolved);
            convolved.close();
        }
        int keep = ranges[k][1] - ranges[k][0];
        int crop = TimeBlocks.croppedAtTop(ranges, k);
        long produced = x.getShape().get(2);
        if (produced < crop + keep) {
            throw new IllegalStateException("layer " + k + ": " + produced + " rows for " + keep + " outputs");
        }
        if (crop > 0 || produced > keep) {
            NDArray kept = x.get(new NDIndex(":, :, {}:{}", crop, crop + keep)); // a view: keeps x's storage alive
            x.close();
            x = kept;
        }
        return x;
    }

    /**
     * GRU over the feature sequence (final hidden state, h0 = 0) and the projection. The input side of every step
     * is one libtorch matmul ({@code x·W_ihᵀ + b_ih} for all steps at once); the recurrence and the projection run
     * here in Java, torch's gate order and equations ({@code torch.nn.GRU}):
     * {@code r = σ(x_r + W_hr·h + b_hr)}, {@code z = σ(x_z + W_hz·h + b_hz)},
     * {@code n = tanh(x_n + r ⊙ (W_hn·h + b_hn))}, {@code h' = (1 − z) ⊙ n + z ⊙ h}. A step is a 128 × 384
     * multiply-add, about 20 µs here, and a clip has few steps (about 1.4 per second of audio), so this replaces
     * libtorch's GRU op and its per-call setup with a small loop. Computing the input side in Java too measured
     * 5–7× slower than the matmul (the JIT did not vectorise it). Sums are float32 in another order than
     * libtorch's, a few ulp apart.
     *
     * @param features {@code [T', 1152]}
     * @return the embedding, {@code gin_channels} floats
     */
    float[] embedding(NDArray features) {
        NDArray inputGates = Linear.linear(features, weights.gruInputWeight, weights.gruInputBias)
                .singletonOrThrow();
        float[] x = inputGates.toFloatArray(); // [T', 3H]: r, z, n
        inputGates.close();
        int hidden = ToneColorWeights.GRU_HIDDEN;
        int gates = 3 * hidden;
        int steps = x.length / gates;
        float[] wT = weights.gruRecurrentWeightT;
        float[] h = new float[hidden];
        float[] hh = new float[gates];
        for (int t = 0; t < steps; t++) {
            System.arraycopy(weights.gruRecurrentBias, 0, hh, 0, gates);
            for (int k = 0; k < hidden; k++) { // hh += W_hh·h as axpys over contiguous rows of W_hhᵀ
                float hk = h[k];
                int row = k * gates;
                for (int j = 0; j < gates; j++) {
                    hh[j] += wT[row + j] * hk;
                }
            }
            int at = t * gates;
            for (int j = 0; j < hidden; j++) {
                float r = sigmoid(x[at + j] + hh[j]);
                float z = sigmoid(x[at + hidden + j] + hh[hidden + j]);
                float n = (float) Math.tanh(x[at + 2 * hidden + j] + r * hh[2 * hidden + j]);
                h[j] = (1 - z) * n + z * h[j];
            }
        }
        float[] projT = weights.projWeightT;
        int dims = weights.projBiasValues.length;
        float[] out = weights.projBiasValues.clone();
        for (int k = 0; k < hidden; k++) {
            float hk = h[k];
            int row = k * dims;
            for (int i = 0; i < dims; i++) {
                out[i] += projT[row + i] * hk;
            }
        }
        return out;
    }

    private static float sigmoid(float v) {
        return (float) (1 / (1 + Math.exp(-v)));
    }
}
