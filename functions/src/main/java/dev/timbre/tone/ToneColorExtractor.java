package dev.timbre.tone;

import dev.timbre.audio.AudioLimits;

import java.nio.file.Path;
import java.util.List;

/**
 * SKELETON (compiles; implementation in progress). OpenVoice {@code extract_se} for one converter directory.
 */
public final class ToneColorExtractor implements AutoCloseable {

    private ToneColorExtractor() {
    }

    public static ToneColorExtractor load(Path converterDir, AudioLimits limits) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public Extraction extract(byte[] encodedAudio) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public float[] embed(float[] samplesAtModelRate) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public static float[] mean(List<float[]> embeddings) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public String modelId() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public int dimension() {
        return 256;
    }

    public int sampleRate() {
        return 22050;
    }

    public ToneColorConverter converterForCurrentThread() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public static int weightLoads() {
        return 0;
    }

    @Override
    public void close() {
    }
}
