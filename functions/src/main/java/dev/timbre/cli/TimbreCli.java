package dev.timbre.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code ./timbre}. Each subcommand is its own class; this one only dispatches and maps
 * failures to exit codes scripts can rely on (see {@link ExitCodes}).
 */
@Command(name = "timbre",
        mixinStandardHelpOptions = true,
        versionProvider = TimbreCli.Version.class,
        description = "Voice recordings to OpenVoice-compatible tone-color embeddings.",
        subcommands = {DemoCommand.class, ExtractCommand.class, CommandLine.HelpCommand.class})
public final class TimbreCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code instead of exiting, for tests. */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new TimbreCli());
        cli.setExecutionExceptionHandler(new OneLineErrors());
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = TimbreCli.class.getPackage().getImplementationVersion();
            return new String[] {"timbre " + (v == null ? "dev" : v)};
        }
    }
}
