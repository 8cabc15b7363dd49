package dev.timbre.cli;

import dev.timbre.ecs.EcsWorkerMain;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code timbre worker}: the ECS worker (long-polls TIMBRE_QUEUE_URL until SIGTERM). */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Run the ECS worker: long-poll TIMBRE_QUEUE_URL, process batches, delete what succeeded.",
                "Stops cleanly on SIGTERM (finishes or releases in-flight messages). Serves /healthz."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped cleanly", "2:usage error",
                "3:bad configuration (one line on stderr naming the variable)", "1:unexpected failure"})
final class WorkerCommand implements Callable<Integer> {

    @Option(names = "--health-port", paramLabel = "N", description = "Port of /healthz; 0 picks one (default: ${DEFAULT-VALUE}).")
    int healthPort = 8080;

    @Option(names = "--shutdown-bound-seconds", paramLabel = "S", description = "Bound on SIGTERM handling (default: ${DEFAULT-VALUE}).")
    int shutdownBound = 25;

    @Option(names = "--visibility-seconds", paramLabel = "S", description = "Visibility timeout kept while a job runs (default: ${DEFAULT-VALUE}).")
    int visibility = 60;

    @Option(names = "--poll-wait-seconds", paramLabel = "S", description = "Long-poll wait, at most 20 (default: ${DEFAULT-VALUE}).")
    int pollWait = 10;

    @Override
    public Integer call() throws Exception {
        EcsWorkerMain.main(new String[] {"--health-port", Integer.toString(healthPort),
            "--shutdown-bound-seconds", Integer.toString(shutdownBound),
            "--visibility-seconds", Integer.toString(visibility),
            "--poll-wait-seconds", Integer.toString(pollWait)});
        return ExitCodes.OK;
    }
}
