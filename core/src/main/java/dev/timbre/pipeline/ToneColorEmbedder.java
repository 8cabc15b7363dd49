package dev.timbre.pipeline;

import dev.timbre.tone.Extraction;
import dev.timbre.tone.SeMode;
import dev.timbre.tone.ToneColorExtractor;

/**
 * Adapts the real extractor to the {@link Embedder} seam. The extractor keeps one converter per worker thread
 * (docs/architecture.md §7), so this adapter adds no state. Does not own the extractor: whoever loaded it closes it.
 */
public final class ToneColorEmbedder implements Embedder {

    private final ToneColorExtractor extractor;

    public ToneColorEmbedder(ToneColorExtractor extractor) {
        this.extractor = extractor;
    }

    @Override
    public Extraction extract(byte[] encodedAudio, SeMode mode) {
        return extractor.extract(encodedAudio, mode);
    }

    @Override
    public String modelId() {
        return extractor.modelId();
    }
}
