package dev.timbre.cli;

/** A command-line input that cannot be used (missing file, unreadable directory); exits with BAD_INPUT. */
public class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }
}
