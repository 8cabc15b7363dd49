package dev.timbre.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.config.InvalidConfigException;
import dev.timbre.config.TimbreConfig;
import dev.timbre.db.DatabasePool;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.pipeline.WorkerRuntime;
import dev.timbre.reconcile.DeadLetterReconciler;
import dev.timbre.reconcile.DeadLetterReconciler.Action;
import dev.timbre.reconcile.DeadLetterReconciler.Mode;
import dev.timbre.store.EmbeddingStore;
import dev.timbre.store.EmbeddingStores;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * {@code timbre reconcile}: finishes the jobs whose messages reached the DLQ with their row still open
 * ({@link DeadLetterReconciler}). One JSON line per DLQ message on stdout; a one-line count on stderr.
 */
@Command(name = "reconcile", mixinStandardHelpOptions = true,
        description = {"Finish jobs whose message is in the DLQ (TIMBRE_DLQ_URL) while their row is still PENDING or "
                + "PROCESSING (a database outage on the last receive, a job cut off on its last receive): mark them "
                + "FAILED (default) or send them back to the jobs queue (--requeue). Stale copies of finished jobs "
                + "are deleted, poison messages kept. One JSON line per DLQ message."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the DLQ was reconciled", "2:usage error",
                "3:bad configuration (e.g. TIMBRE_DLQ_URL, or TIMBRE_QUEUE_URL with --requeue, missing)",
                "1:the database, the DLQ or the embedding store is unreachable"})
final class ReconcileCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Each DLQ message stays hidden this long while it is handled; kept ones are released at the end. */
    private static final Duration VISIBILITY = Duration.ofSeconds(60);

    @Spec
    CommandSpec spec;

    // stdout is its data (JSON lines an operator pipes): logs on stderr, warnings only unless --verbose
    @Mixin
    VerboseOption verbosity;

    @ArgGroup(exclusive = true)
    Choice choice = new Choice();

    static final class Choice {
        @Option(names = "--requeue", description = "Send open jobs back to the jobs queue (TIMBRE_QUEUE_URL) to run "
                + "again, instead of marking them FAILED.")
        boolean requeue;

        @Option(names = "--dry-run", description = "Change nothing; print what the default would do.")
        boolean dryRun;
    }

    /** The environment; tests replace it. */
    Map<String, String> env = System.getenv();

    @Override
    public Integer call() throws Exception {
        Mode mode = choice.requeue ? Mode.REQUEUE : choice.dryRun ? Mode.DRY_RUN : Mode.FAIL;
        Map<String, String> vars = new HashMap<>(env);
        // Reconciling reads no audio: the upload bucket is irrelevant here but required by the shared config.
        vars.putIfAbsent("TIMBRE_S3_BUCKET", "unused-by-reconcile");
        TimbreConfig config = TimbreConfig.fromEnv(vars);
        String dlqUrl = config.dlqUrl().map(URI::toString).orElseThrow(() -> new InvalidConfigException(
                "TIMBRE_DLQ_URL is required: it is the queue reconciled"));
        if (mode == Mode.REQUEUE && config.queueUrl().isEmpty()) {
            throw new InvalidConfigException("TIMBRE_QUEUE_URL is required with --requeue: open jobs are sent there");
        }
        PrintWriter out = spec.commandLine().getOut();
        Map<Action, Integer> counts = new EnumMap<>(Action.class);
        try (HikariDataSource ds = DatabasePool.open(config.dbUrl(), config.dbUser(),
                config.dbPassword().orElse(null), 2);
             EmbeddingStore store = EmbeddingStores.fromConfig(config, ds);
             SqsClient sqs = WorkerRuntime.sqsClient(config)) {
            DeadLetterReconciler reconciler = new DeadLetterReconciler(sqs, dlqUrl,
                    config.queueUrl().map(URI::toString), new PostgresJobStore(ds), store, new JobMessageParser(),
                    VISIBILITY);
            reconciler.run(mode, r -> {
                ObjectNode line = JSON.createObjectNode();
                line.put("message_id", r.messageId());
                line.put("job_id", r.jobId().map(Object::toString).orElse(null));
                line.put("row_status", r.rowStatus().orElse(null));
                line.put("row_deleted", r.rowDeleted());
                line.put("action", name(r.action()));
                if (mode == Mode.DRY_RUN) {
                    line.put("would", name(r.would()));
                }
                out.println(line.toString());
                out.flush(); // line by line: a run that fails half-way has still said what it did
                counts.merge(mode == Mode.DRY_RUN ? r.would() : r.action(), 1, Integer::sum);
            });
        }
        List<String> parts = counts.entrySet().stream().map(e -> e.getValue() + " " + name(e.getKey())).toList();
        spec.commandLine().getErr().println("timbre reconcile: " + counts.values().stream().mapToInt(i -> i).sum()
                + " DLQ messages" + (parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")")
                + (mode == Mode.DRY_RUN ? ", dry run: nothing changed" : ""));
        return ExitCodes.OK;
    }

    private static String name(Action action) {
        return action.name().toLowerCase(Locale.ROOT);
    }
}
