package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * What the benchmarks in {@code dev.timbre.bench} need from inside this package: a converter without the fused
 * conv + ReLU (to compare with the default in one run) and a per-layer conv profile. Test code only.
 */
public final class ToneBenchAccess {
    /** The encoder's conv geometry: 3 × 3, stride 2, padding 1. */
    private static final FusedConvRelu FUSED = new FusedConvRelu(new long[] {2, 2}, new long[] {1, 1},
            new long[] {1, 1});
    private ToneBenchAccess() {
    }

    /** A default converter except that each conv and its ReLU run as two DJL ops; the caller closes it. */
    public static ToneColorConverter unfusedConverter(ToneColorExtractor extractor) {
        return new ToneColorConverter(extractor.weights(), ToneColorConverter.DEFAULT_BLOCK_OUTPUTS,
                ReferenceEncoder.DEFAULT_EARLY_ROWS, false);
    }

    /** Layer-2 rows per sub-block of the default converter. */
    public static int defaultEarlyRows() {
        return ReferenceEncoder.DEFAULT_EARLY_ROWS;
    }

    /** Output channels of conv 1..6, input channels of conv 1 first: {@code [1, 32, 32, 64, 64, 128, 128]}. */
    public static int[] convChannels(ToneColorExtractor extractor) {
        ToneColorWeights w = extractor.weights();
        int[] c = new int[ToneColorWeights.CONV_LAYERS + 1];
        c[0] = Math.toIntExact(w.convWeight[0].getShape().get(1));
        for (int k = 0; k < ToneColorWeights.CONV_LAYERS; k++) {
            c[k + 1] = Math.toIntExact(w.convWeight[k].getShape().get(0));
        }
        return c;
    }

    /** The converter's {@code config.json}. */
    public static dev.timbre.tone.checkpoint.ConverterConfig config(ToneColorExtractor extractor) {
        return extractor.weights().config();
    }

    /** GRU hidden size and input size: {@code {128, 1152}}. */
    public static int[] gruSizes(ToneColorExtractor extractor) {
        Shape ih = extractor.weights().gruInputWeight.getShape(); // [3H, I]
        return new int[] {Math.toIntExact(ih.get(0) / 3), Math.toIntExact(ih.get(1))};
    }

    /** Conv + ReLU as the encoder runs it: one fused op where libtorch offers it. */
    private static NDArray convRelu(NDArray x, NDArray weight, NDArray bias, Shape stride, Shape padding,
                                    Shape dilation) {
        if (FusedConvRelu.available(x, weight, bias)) {
            return FUSED.apply(x, weight, bias);
        }
        return Activation.relu(Conv2d.conv2d(x, weight, bias, stride, padding, dilation).singletonOrThrow());
    }

    /**
     * Fastest time of each conv + ReLU (ms, index 0 = conv 1) on a random {@code [1, 1, frames, bins]} input, the
     * first {@link ReferenceEncoder#EARLY_LAYERS} convs over input chunks of {@code chunkFrames} frames (no halo;
     * {@link Integer#MAX_VALUE} for the whole input), the others over the whole input. On the calling thread.
     */
    public static double[] convLayerMillis(ToneColorExtractor extractor, int frames, int bins, int chunkFrames,
                                           int reps) {
        ToneColorWeights w = extractor.weights();
        double[] best = new double[ToneColorWeights.CONV_LAYERS];
        Arrays.fill(best, Double.MAX_VALUE);
        Shape stride = new Shape(2, 2);
        Shape padding = new Shape(1, 1);
        Shape dilation = new Shape(1, 1);
        try (NDManager manager = TorchEngine.newManager()) {
            Random random = new Random(frames);
            float[] data = new float[frames * bins];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) random.nextGaussian();
            }
            NDArray input = manager.create(data, new Shape(1, 1, frames, bins));
            for (int r = 0; r < reps; r++) {
                try (NDManager scope = manager.newSubManager()) {
                    double[] took = new double[best.length];
                    List<NDArray> early = new ArrayList<>();
                    for (int a = 0; a < frames; a += chunkFrames) {
                        int b = (int) Math.min(frames, (long) a + chunkFrames);
                        NDArray x = input.get(new NDIndex(":, :, {}:{}", a, b));
                        for (int k = 0; k < ReferenceEncoder.EARLY_LAYERS; k++) {
                            long t0 = System.nanoTime();
                            x = convRelu(x, w.convWeight[k], w.convBias[k], stride, padding, dilation);
                            took[k] += (System.nanoTime() - t0) / 1e6;
                            x.attach(scope);
                        }
                        early.add(x);
                    }
                    NDArray whole = early.size() == 1 ? early.get(0) : NDArrays.concat(new NDList(early), 2);
                    whole.attach(scope);
                    for (int k = ReferenceEncoder.EARLY_LAYERS; k < ToneColorWeights.CONV_LAYERS; k++) {
                        long t0 = System.nanoTime();
                        whole = convRelu(whole, w.convWeight[k], w.convBias[k], stride, padding, dilation);
                        took[k] += (System.nanoTime() - t0) / 1e6;
                        whole.attach(scope);
                    }
                    for (int k = 0; k < best.length; k++) {
                        best[k] = Math.min(best[k], took[k]);
                    }
                }
            }
        }
        return best;
    }
}
