package dev.timbre.cli;

import picocli.CommandLine.Option;

/**
 * {@code --verbose} of the one-shot commands (extract, submit, status, similar, migrate, reconcile). Their stdout is their
 * data, so their logs go to stderr and, by default, only warnings and errors are logged: a script sees the
 * answer on stdout and an empty stderr when all went well. Applied by {@link CliLogging}.
 */
final class VerboseOption {

    @Option(names = {"-v", "--verbose"},
            description = "Also log progress (INFO, or TIMBRE_LOG_LEVEL when set) to stderr; by default only "
                    + "warnings and errors.")
    boolean verbose;
}
