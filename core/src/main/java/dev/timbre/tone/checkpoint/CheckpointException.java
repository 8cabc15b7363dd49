package dev.timbre.tone.checkpoint;

/**
 * The converter directory cannot be used: missing or malformed config.json, unreadable, legacy or hostile
 * checkpoint.pth, or a missing or mis-shaped {@code ref_enc.*} tensor. The message names the file and key.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
