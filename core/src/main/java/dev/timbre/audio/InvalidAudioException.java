package dev.timbre.audio;

/**
 * The audio cannot be used: undecodable, unsupported, empty, too short, too long or too large.
 * The message is one line a user can act on (what was wrong, the limit and the actual value); it is
 * stored as the job's error, so it never contains a stack trace or the audio itself.
 * A job failing with this is a permanent failure (docs/architecture.md §6): retrying cannot help.
 */
public class InvalidAudioException extends RuntimeException {
    public InvalidAudioException(String message) {
        super(message);
    }

    public InvalidAudioException(String message, Throwable cause) {
        super(message, cause);
    }
}
