package dev.timbre.pipeline;

import dev.timbre.tone.Extraction;
import dev.timbre.tone.SeMode;

/**
 * The model step as the job processor sees it: encoded audio in, one embedding out. Production adapts
 * {@link dev.timbre.tone.ToneColorExtractor} ({@link ToneColorEmbedder}); tests substitute only to inject a
 * specific fault.
 *
 * <p>Implementations must be safe to call from several worker threads at once.
 */
public interface Embedder {

    /**
     * @param mode how to embed: whole clip, or OpenVoice's get_se over the speech the VAD keeps
     * @throws dev.timbre.audio.InvalidAudioException when the audio cannot be used (a permanent failure; for
     *         get-se also {@link dev.timbre.tone.TooLittleSpeechException})
     */
    Extraction extract(byte[] encodedAudio, SeMode mode);

    /** Identifies the weights, written into results and point payloads. */
    String modelId();
}
