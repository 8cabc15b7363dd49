package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.timbre.tone.checkpoint.ConverterCheckpoint;
import dev.timbre.tone.checkpoint.ConverterConfig;
import dev.timbre.tone.checkpoint.Tensor;

import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code ref_enc} weights of one converter as engine arrays, in one long-lived {@link NDManager}.
 *
 * <p>Weight norm is folded in once, here: {@code W = g · v / ‖v‖₂}, the norm per output channel over
 * (in, kh, kw) with no epsilon (old {@code torch.nn.utils.weight_norm}, dim 0). The sum of squares is taken
 * in double and the result rounded once to float32, so W is the float nearest the exact value; any float32
 * evaluation in PyTorch lands within a few ulp of it.
 *
 * <p>Thread-safety: immutable after construction. Every array is only ever read, and always as the second
 * operand of an op whose result attaches to the caller's per-call manager, so any number of threads may
 * share one instance. {@link #close()} frees the native memory; the owner (the extractor) calls it when no
 * converter uses the weights any more.
 */
public final class ToneColorWeights implements AutoCloseable {
    static final int CONV_LAYERS = 6;
    static final int GRU_HIDDEN = 128;

    private static final AtomicInteger LOADS = new AtomicInteger();

    private final NDManager manager;
    private final ConverterConfig config;
    private final String modelId;
    final NDArray layerNormGamma;
    final NDArray layerNormBeta;
    final NDArray[] convWeight = new NDArray[CONV_LAYERS];
    final NDArray[] convBias = new NDArray[CONV_LAYERS];
    /**
     * The GRU's input side as engine arrays, {@code weight_ih_l0} {@code [3·hidden, inputs]} and {@code bias_ih_l0}:
     * one matmul for all steps ({@link ReferenceEncoder#embedding}); the recurrent side is Java arrays below.
     */
    final NDArray gruInputWeight;
    final NDArray gruInputBias;
    /**
     * The GRU's recurrent weights transposed, {@code [hidden, 3·hidden]} row-major ({@code weight_hh_l0ᵀ}), and
     * its recurrent bias: the recurrence runs in Java ({@link ReferenceEncoder#embedding}), where a step is one
     * 128 × 384 multiply-add that costs less than a libtorch op's dispatch.
     */
    final float[] gruRecurrentWeightT;
    final float[] gruRecurrentBias;
    /** The projection's weights transposed, {@code [hidden, gin_channels]} row-major, and its bias. */
    final float[] projWeightT;
    final float[] projBiasValues;
    /** Periodic Hann window of {@code win_length}, as {@code torch.hann_window}. */
    final NDArray hannWindow;

    private ToneColorWeights(ConverterCheckpoint checkpoint) {
        this.config = checkpoint.config();
        this.modelId = checkpoint.modelId();
        this.manager = TorchEngine.newManager();
        manager.setName("tone-weights:" + modelId);
        try {
            layerNormGamma = array(checkpoint.tensor("ref_enc.layernorm.weight"));
            layerNormBeta = array(checkpoint.tensor("ref_enc.layernorm.bias"));
            for (int i = 0; i < CONV_LAYERS; i++) {
                String prefix = "ref_enc.convs." + i + ".";
                convWeight[i] = channelsLast(weightNorm(checkpoint.tensor(prefix + "weight_g"),
                        checkpoint.tensor(prefix + "weight_v")));
                convBias[i] = array(checkpoint.tensor(prefix + "bias"));
            }
            gruInputWeight = array(checkpoint.tensor("ref_enc.gru.weight_ih_l0"));
            gruInputBias = array(checkpoint.tensor("ref_enc.gru.bias_ih_l0"));
            gruRecurrentWeightT = transposed(checkpoint.tensor("ref_enc.gru.weight_hh_l0"));
            gruRecurrentBias = checkpoint.tensor("ref_enc.gru.bias_hh_l0").data().clone();
            projWeightT = transposed(checkpoint.tensor("ref_enc.proj.weight"));
            projBiasValues = checkpoint.tensor("ref_enc.proj.bias").data().clone();
            hannWindow = manager.hanningWindow(config.winLength());
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        LOADS.incrementAndGet();
    }

    /** Builds the engine arrays from a validated checkpoint. The caller closes the result. */
    public static ToneColorWeights from(ConverterCheckpoint checkpoint) {
        return new ToneColorWeights(checkpoint);
    }

    /** How many times weights were built in this process (a test and health signal: should stay at 1). */
    public static int loads() {
        return LOADS.get();
    }

    public ConverterConfig config() {
        return config;
    }

    public String modelId() {
        return modelId;
    }

    /** The embedding size: entries of {@code ref_enc.proj.bias} ({@code gin_channels}, 256). */
    public int dimension() {
        return projBiasValues.length;
    }

    /** Manager the weights live in; converters open their own managers, never children of this one. */
    NDManager manager() {
        return manager;
    }

    /**
     * {@code g · v / ‖v‖₂} per output channel (dim 0), no epsilon.
     *
     * @param g {@code [out,1,1,1]}
     * @param v {@code [out,in,kh,kw]}
     */
    static Tensor weightNorm(Tensor g, Tensor v) {
        int out = Math.toIntExact(v.shape()[0]);
        if (g.data().length != out) {
            throw new IllegalArgumentException(g.name() + ": " + g.data().length + " gains for " + out + " channels");
        }
        int perChannel = v.data().length / out;
        float[] w = new float[v.data().length];
        for (int o = 0; o < out; o++) {
            double sumSquares = 0;
            for (int j = o * perChannel; j < (o + 1) * perChannel; j++) {
                sumSquares += (double) v.data()[j] * v.data()[j];
            }
            double scale = g.data()[o] / Math.sqrt(sumSquares);
            for (int j = o * perChannel; j < (o + 1) * perChannel; j++) {
                w[j] = (float) (v.data()[j] * scale);
            }
        }
        return new Tensor(v.name().replace("weight_v", "weight"), v.shape(), w);
    }

    /** A 2-D tensor's data transposed: {@code [rows, cols]} becomes {@code [cols, rows]}, row-major. */
    private static float[] transposed(Tensor t) {
        int rows = Math.toIntExact(t.shape()[0]);
        int cols = Math.toIntExact(t.shape()[1]);
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = t.data()[r * cols + c];
            }
        }
        return out;
    }

    /**
     * A conv weight {@code [out, in, kh, kw]} stored channels-last ({@code [out, kh, kw, in]} in memory) and handed
     * out as the permuted view, so its shape is still {@code [out, in, kh, kw]}. libtorch runs a convolution
     * channels-last when its weight is, and its output is then channels-last too, so every layer after the first
     * stays in the layout oneDNN computes in, without the reorders of the default layout on each call.
     */
    private NDArray channelsLast(Tensor t) {
        long[] s = t.shape();
        int out = Math.toIntExact(s[0]);
        int in = Math.toIntExact(s[1]);
        int taps = Math.toIntExact(s[2] * s[3]);
        float[] nhwc = new float[t.data().length];
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < in; c++) {
                for (int k = 0; k < taps; k++) {
                    nhwc[(o * taps + k) * in + c] = t.data()[(o * in + c) * taps + k];
                }
            }
        }
        NDArray stored = manager.create(FloatBuffer.wrap(nhwc), new Shape(s[0], s[2], s[3], s[1]), DataType.FLOAT32);
        NDArray view = stored.transpose(0, 3, 1, 2);
        view.setName(t.name());
        return view;
    }

    private NDArray array(Tensor t) {
        NDArray a = manager.create(FloatBuffer.wrap(t.data()), new Shape(t.shape()), DataType.FLOAT32);
        a.setName(t.name());
        return a;
    }

    @Override
    public void close() {
        manager.close();
    }
}
