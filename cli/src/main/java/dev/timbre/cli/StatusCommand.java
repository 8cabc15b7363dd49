package dev.timbre.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.config.TimbreConfig;
import dev.timbre.db.DatabasePool;
import dev.timbre.job.JobRecord;
import dev.timbre.job.PostgresJobStore;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code timbre status JOB_ID}: the job row as one JSON object. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Print a job's row (status, attempts, error, result) as JSON.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:found", "3:not a job id, or no such job", "1:database unreachable"})
final class StatusCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    VerboseOption verbosity;

    @Parameters(paramLabel = "JOB_ID", description = "The job's UUID.")
    String jobId;

    @Override
    public Integer call() throws Exception {
        UUID id;
        try {
            id = UUID.fromString(jobId);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("not a job id (UUID): " + jobId);
        }
        TimbreConfig.DatabaseSettings db = TimbreConfig.databaseFromEnv(System.getenv());
        try (HikariDataSource ds = DatabasePool.open(db.url(), db.user(), db.password().orElse(null), 1)) {
            Optional<JobRecord> row = new PostgresJobStore(ds).find(id);
            if (row.isEmpty()) {
                throw new BadInputException("job " + id + " not found");
            }
            JobRecord r = row.get();
            ObjectNode out = JSON.createObjectNode();
            out.put("job_id", r.id().toString());
            out.put("voice_id", r.voiceId());
            out.put("s3_key", r.s3Key());
            out.put("status", r.status().name());
            out.put("attempts", r.attempts());
            out.put("deleted", r.deleted());
            out.put("error", r.error());
            out.put("se_mode", r.seMode().map(m -> m.id()).orElse(null));
            out.set("speech", r.speechJson() == null ? null : JSON.readTree(r.speechJson()));
            out.set("result", r.resultJson() == null ? null : JSON.readTree(r.resultJson()));
            out.put("created_at", String.valueOf(r.createdAt()));
            out.put("started_at", r.startedAt() == null ? null : r.startedAt().toString());
            out.put("finished_at", r.finishedAt() == null ? null : r.finishedAt().toString());
            spec.commandLine().getOut().println(JSON.writeValueAsString(out));
            spec.commandLine().getOut().flush();
        }
        return ExitCodes.OK;
    }
}
