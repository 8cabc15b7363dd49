package dev.timbre.pipeline;

import dev.timbre.tone.Extraction;

/**
 * The model step as the job processor sees it: encoded audio in, one embedding out. Production adapts
 * {@link dev.timbre.tone.ToneColorExtractor} ({@link ToneColorEmbedder}); tests substitute only to inject a
 * specific fault.
 *
 * <p>Implementations must be safe to call from several worker threads at once.
 */
public interface Embedder {

    /**
     * @throws dev.timbre.audio.InvalidAudioException when the audio cannot be used (a permanent failure)
     */
    Extraction extract(byte[] encodedAudio);

    /** Identifies the weights, written into results and point payloads. */
    String modelId();
}
