package dev.timbre.cli;

import java.io.PrintWriter;
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
        subcommands = {DemoCommand.class, ExtractCommand.class, WorkerCommand.class, SubmitCommand.class,
                StatusCommand.class, EventsCommand.class, SimilarCommand.class, ReconcileCommand.class, MigrateCommand.class, CommandLine.HelpCommand.class})
public final class TimbreCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        CommandLine cli = commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        // This process is the command's own: its logging can still be chosen, as nothing has logged yet
        cli.setExecutionStrategy(CliLogging.before(new CommandLine.RunLast()));
        System.exit(cli.execute(args));
    }

    /** Runs the CLI on the process's stdout/stderr and returns the exit code instead of exiting. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the CLI writing to the given streams (tests) and returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return commandLine(out, err).execute(args);
    }

    private static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new TimbreCli());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler(new OneLineErrors());
        return cli;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = TimbreCli.class.getPackage().getImplementationVersion();
            return new String[] {"timbre " + (v == null ? "dev" : v)};
        }
    }
}
