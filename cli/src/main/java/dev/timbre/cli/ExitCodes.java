package dev.timbre.cli;

/** Exit statuses of {@code ./timbre}, stable for scripts. */
public final class ExitCodes {
    public static final int OK = 0;
    /** An unexpected failure (a bug or an unavailable service); the message says which. */
    public static final int FAILURE = 1;
    /** Wrong usage: unknown command or option, missing argument. */
    public static final int USAGE = 2;
    /** The input was rejected: bad audio, bad checkpoint, bad configuration. */
    public static final int BAD_INPUT = 3;

    private ExitCodes() {
    }
}
