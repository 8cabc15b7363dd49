package dev.timbre.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * Chooses where and how much the process logs from the parsed command line, before anything logs: logback reads
 * {@code timbre.log.target} and {@code timbre.log.level} once, when the first logger is created (see
 * {@code logback.xml}). A command with a {@link VerboseOption} is a one-shot command whose stdout is data: its
 * logs go to stderr, warnings only unless {@code --verbose}. Every other command (demo, worker) logs as the
 * services do, to stdout at {@code TIMBRE_LOG_LEVEL}.
 *
 * <p>Only for a process of its own ({@link TimbreCli#main}): a JVM whose logback is already configured (the
 * tests that call {@link TimbreCli#execute(java.io.PrintWriter, java.io.PrintWriter, String...)}) keeps its
 * logging as it is.
 */
final class CliLogging {

    static final String TARGET = "timbre.log.target";
    static final String LEVEL = "timbre.log.level";

    private CliLogging() {
    }

    /** Runs the parsed command after choosing its logging. */
    static CommandLine.IExecutionStrategy before(CommandLine.IExecutionStrategy strategy) {
        return parsed -> {
            apply(parsed);
            return strategy.execute(parsed);
        };
    }

    static void apply(ParseResult parsed) {
        ParseResult command = parsed;
        while (command.hasSubcommand()) {
            command = command.subcommand();
        }
        VerboseOption verbosity = verbosityOf(command.commandSpec());
        if (verbosity == null) {
            return;
        }
        System.setProperty(TARGET, "System.err");
        if (!verbosity.verbose) {
            System.setProperty(LEVEL, "WARN");
        }
    }

    private static VerboseOption verbosityOf(CommandSpec spec) {
        for (CommandSpec mixin : spec.mixins().values()) {
            if (mixin.userObject() instanceof VerboseOption v) {
                return v;
            }
        }
        return null;
    }
}
