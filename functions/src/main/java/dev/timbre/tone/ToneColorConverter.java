package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
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

    ToneColorConverter(ToneColorWeights weights) {
        this.weights = weights;
        this.spectrogram = new Spectrogram(weights.config().filterLength(), weights.config().hopLength());
        if (weights.config().winLength() != weights.config().filterLength()) {
            // spectrogram_torch pads the window to n_fft when shorter; every OpenVoice config has them equal.
            throw new IllegalArgumentException("win_length " + weights.config().winLength()
                    + " differs from filter_length " + weights.config().filterLength() + "; not supported");
        }
        this.encoder = new ReferenceEncoder(weights);
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
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("converter of thread " + owner.getName() + " used by "
                    + Thread.currentThread().getName() + "; take one per thread from the extractor");
        }
        checkSamples(monoAtModelRate);
        try (NDManager call = manager.newSubManager()) {
            float[] padded = spectrogram.reflectPad(monoAtModelRate);
            NDArray spec = spectrogram.magnitude(call, padded, weights.hannWindow);
            NDArray features = encoder.features(spec);
            return encoder.embedding(call, features);
        }
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
