package dev.timbre.cli;

import dev.timbre.audio.InvalidAudioException;
import dev.timbre.common.secrets.Redaction;
import dev.timbre.config.InvalidConfigException;
import dev.timbre.tone.checkpoint.CheckpointException;
import picocli.CommandLine;

/**
 * Prints a failed command as one line on stderr ({@code timbre extract: <reason>}) and picks the exit code.
 * Rejected input is the user's to fix, so it gets no stack trace; anything else is unexpected and does.
 * Every line passes through {@link Redaction} with the process environment: a library's message may quote a URL
 * or a part of one (java.net.URI, pgjdbc, HikariCP do), and this line goes to stderr, i.e. to CloudWatch.
 */
final class OneLineErrors implements CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        String command = cli.getCommandName();
        if (isBadInput(e)) {
            cli.getErr().println("timbre " + command + ": " + redacted(oneLine(e.getMessage())));
            return ExitCodes.BAD_INPUT;
        }
        cli.getErr().println("timbre " + command + ": unexpected error: " + redacted(oneLine(String.valueOf(e))));
        if (Boolean.getBoolean("timbre.debug")) {
            e.printStackTrace(cli.getErr());
        }
        return ExitCodes.FAILURE;
    }

    static boolean isBadInput(Throwable e) {
        return e instanceof InvalidAudioException
                || e instanceof CheckpointException
                || e instanceof BadInputException
                || e instanceof InvalidConfigException;
    }

    private static String redacted(String line) {
        return Redaction.text(line, System.getenv());
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
