package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * One worker thread's converter: OpenVoice {@code extract_se} for one file on weights shared with every
 * other converter.
 *
 * <p>Thread-safety: not thread-safe, and confined: it may be used only by the thread that created it (a
 * call from another thread throws {@link IllegalStateException}). Obtain one per thread from
 * {@link ToneColorExtractor#converterForCurrentThread()}. Each {@link #embed} call opens its own sub-manager
 * and closes it before returning, so no native memory outlives a call. The extractor that created a converter
 * closes it; the weights are not owned and are not closed here.
 */
public final class ToneColorConverter implements AutoCloseable {
    private final ToneColorWeights weights;
    private final Spectrogram spectrogram;
    private final ReferenceEncoder encoder;
    private final NDManager manager;
    private final Thread owner;
    private final int blockOutputs;
    private final int earlyRows;

    /**
     * Final conv rows per time block: 16 rows are about 1024 spectrogram frames (≈ 12 s at 22050 Hz), so a block's
     * activations stay in the tens of MB however long the recording (the first two convs, the largest, run in
     * sub-blocks anyway), and clips up to about 23 s run as one block (a short remainder joins the last block).
     * With the channels-last conv weights, 16 was about 11 % faster than 8 on a 30 s clip and as fast as one
     * whole-clip block (8 had been the fastest of 6–24 with the default layout); every size gives bit-identical
     * embeddings.
     */
    static final int DEFAULT_BLOCK_OUTPUTS = 16;

    ToneColorConverter(ToneColorWeights weights) {
        this(weights, DEFAULT_BLOCK_OUTPUTS);
    }

    /** @param blockOutputs final conv rows per time block (see {@link TimeBlocks}); tests vary it */
    ToneColorConverter(ToneColorWeights weights, int blockOutputs) {
        this(weights, blockOutputs, ReferenceEncoder.DEFAULT_EARLY_ROWS);
    }

    /**
     * @param blockOutputs final conv rows per time block (see {@link TimeBlocks}); tests vary it
     * @param earlyRows    layer-2 rows per sub-block of the first convs ({@link ReferenceEncoder#features});
     *                     {@link Integer#MAX_VALUE} runs them over whole blocks
     */
    ToneColorConverter(ToneColorWeights weights, int blockOutputs, int earlyRows) {
        this(weights, blockOutputs, earlyRows, true);
    }

    /**
     * @param fuseConvRelu each conv and its ReLU as one op where libtorch offers it (see {@link FusedConvRelu});
     *                     the two agree to a few ulp (oneDNN may pick another kernel with the fused
     *                     ReLU); benchmarks compare them
     */
    ToneColorConverter(ToneColorWeights weights, int blockOutputs, int earlyRows, boolean fuseConvRelu) {
        if (blockOutputs < 1) {
            throw new IllegalArgumentException("blockOutputs must be at least 1, was " + blockOutputs);
        }
        if (earlyRows < 1) {
            throw new IllegalArgumentException("earlyRows must be at least 1, was " + earlyRows);
        }
        this.blockOutputs = blockOutputs;
        this.earlyRows = earlyRows;
        this.weights = weights;
        this.spectrogram = new Spectrogram(weights.config().filterLength(), weights.config().hopLength());
        if (weights.config().winLength() != weights.config().filterLength()) {
            // spectrogram_torch pads the window to n_fft when shorter; every OpenVoice config has them equal.
            throw new IllegalArgumentException("win_length " + weights.config().winLength()
                    + " differs from filter_length " + weights.config().filterLength() + "; not supported");
        }
        this.encoder = new ReferenceEncoder(weights, fuseConvRelu);
        this.manager = TorchEngine.newManager();
        this.owner = Thread.currentThread();
        manager.setName("tone-converter:" + owner.getName());
    }

    /**
     * The tone-color embedding of one mono recording.
     *
     * @param monoAtModelRate samples at the checkpoint's sampling rate, at least 385 of them, all finite
     * @return {@code gin_channels} (256) floats, {@code extract_se} of this file alone
     * @throws IllegalArgumentException if the input is too short or has a NaN or infinite sample
     */
    public float[] embed(float[] monoAtModelRate) {
        return embedTimed(monoAtModelRate).embedding();
    }

    /**
     * {@link #embed}, also reporting where the time went (for benchmarks and metrics). PyTorch CPU ops run
     * eagerly on the calling thread, so wall time around them is their cost.
     */
    public Timed embedTimed(float[] monoAtModelRate) {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("converter of thread " + owner.getName() + " used by "
                    + Thread.currentThread().getName() + "; take one per thread from the extractor");
        }
        checkSamples(monoAtModelRate);
        long spectrogramNanos = 0;
        long encoderNanos = 0;
        try (NDManager call = manager.newSubManager()) {
            TimeBlocks blocks = new TimeBlocks(spectrogram.frames(monoAtModelRate.length));
            NDList features = new NDList();
            for (int[] block : blocks.blocks(blockOutputs)) {
                try (NDManager blockScope = call.newSubManager()) {
                    long t0 = System.nanoTime();
                    int[][] ranges = blocks.rangesFor(block[0], block[1]);
                    long[] samples = spectrogram.sampleRange(ranges[0][0], ranges[0][1]);
                    NDArray spec = spectrogram.magnitude(blockScope, monoAtModelRate, samples[0], samples[1],
                            weights.hannWindow);
                    long t1 = System.nanoTime();
                    NDArray blockFeatures = encoder.features(spec, blocks, ranges, earlyRows);
                    spec.close();
                    blockFeatures.attach(call); // survives the block scope; everything else is freed now
                    features.add(blockFeatures);
                    spectrogramNanos += t1 - t0;
                    encoderNanos += System.nanoTime() - t1;
                }
            }
            long t2 = System.nanoTime();
            NDArray sequence = features.size() == 1 ? features.get(0) : NDArrays.concat(features, 0);
            float[] embedding = encoder.embedding(sequence);
            encoderNanos += System.nanoTime() - t2;
            return new Timed(embedding, spectrogramNanos, encoderNanos);
        }
    }

    /**
     * An embedding and the time spent on it.
     *
     * @param embedding        {@code gin_channels} floats
     * @param spectrogramNanos reflect pad, STFT and magnitude
     * @param encoderNanos     LayerNorm, convs, GRU and projection
     */
    public record Timed(float[] embedding, long spectrogramNanos, long encoderNanos) {
    }

    /** Arrays still attached to this converter's manager (0 between calls; a leak test hook). */
    int liveArrays() {
        return manager.getManagedArrays().size();
    }

    int minSamples() {
        return spectrogram.minSamples();
    }

    private void checkSamples(float[] samples) {
        if (samples.length < spectrogram.minSamples()) {
            throw new IllegalArgumentException("audio too short: " + samples.length + " samples at "
                    + weights.config().samplingRate() + " Hz, need at least " + spectrogram.minSamples());
        }
        for (int i = 0; i < samples.length; i++) {
            if (!Float.isFinite(samples[i])) {
                throw new IllegalArgumentException("sample " + i + " is " + samples[i] + "; audio must be finite");
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
