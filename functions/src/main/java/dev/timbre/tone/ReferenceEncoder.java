package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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
    private static final Shape STRIDE = new Shape(2, 2);
    private static final Shape PADDING = new Shape(1, 1);
    private static final Shape DILATION = new Shape(1, 1);

    private final ToneColorWeights weights;

    ReferenceEncoder(ToneColorWeights weights) {
        this.weights = weights;
    }

    /**
     * Normalised and convolved features of one time block.
     *
     * @param spec   spectrogram frames {@code ranges[0]}, {@code [rows, bins]}
     * @param ranges rows of every layer this block produces ({@link TimeBlocks#rangesFor})
     * @return final conv rows {@code ranges[6]} as {@code [rows', C·F']} (channel-major: feature index
     *         {@code c·F' + f}), in spec's manager
     */
    NDArray features(NDArray spec, int[][] ranges) {
        long frames = spec.getShape().get(0);
        long bins = spec.getShape().get(1);
        NDArray x = LayerNorm.layerNorm(spec.reshape(1, 1, frames, bins), new Shape(bins),
                weights.layerNormGamma, weights.layerNormBeta, LAYER_NORM_EPS).singletonOrThrow();
        for (int k = 1; k <= ToneColorWeights.CONV_LAYERS; k++) {
            x = Conv2d.conv2d(x, weights.convWeight[k - 1], weights.convBias[k - 1], STRIDE, PADDING, DILATION)
                    .singletonOrThrow();
            x = Activation.relu(x);
            int keep = ranges[k][1] - ranges[k][0];
            int crop = TimeBlocks.croppedAtTop(ranges, k);
            long produced = x.getShape().get(2);
            if (produced < crop + keep) {
                throw new IllegalStateException("layer " + k + ": " + produced + " rows for " + keep + " outputs");
            }
            if (crop > 0 || produced > keep) {
                x = x.get(new NDIndex(":, :, {}:{}", crop, crop + keep));
            }
        }
        // [1, C, T', F'] -> [1, T', C, F'] -> [T', C·F']: models.py:351-354
        Shape s = x.getShape();
        return x.transpose(0, 2, 1, 3).reshape(s.get(2), s.get(1) * s.get(3));
    }

    /**
     * GRU over the feature sequence (final hidden state) and the projection.
     *
     * @param scope    per-call manager for h0
     * @param features {@code [T', 1152]}
     * @return the embedding, {@code gin_channels} floats
     */
    float[] embedding(NDManager scope, NDArray features) {
        NDArray sequence = features.expandDims(0); // batch_first [1, T', 1152]
        NDArray h0 = scope.zeros(new Shape(1, 1, ToneColorWeights.GRU_HIDDEN));
        NDList out = sequence.getNDArrayInternal().gru(sequence, h0, weights.gruParameters,
                true, 1, 0.0, false, false, true);
        NDArray finalHidden = out.get(1).reshape(1, ToneColorWeights.GRU_HIDDEN);
        NDArray projected = Linear.linear(finalHidden, weights.projWeight, weights.projBias).singletonOrThrow();
        return projected.toFloatArray();
    }
}
