package dev.timbre.vad;

/** The Silero VAD model cannot be loaded: missing from the class path (or the override path), or not a valid model. */
public final class VadModelException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public VadModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
