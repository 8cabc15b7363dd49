package dev.timbre.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.config.TimbreConfig;
import dev.timbre.db.DatabasePool;
import dev.timbre.job.JobQueries;
import dev.timbre.store.EmbeddingStore;
import dev.timbre.store.EmbeddingStores;
import dev.timbre.store.Neighbour;
import dev.timbre.store.SimilarVoices;
import dev.timbre.tone.SeMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code timbre similar VOICE_ID}: the voices nearest to a voice ({@link SimilarVoices}: only points of COMPLETED,
 * not deleted jobs), one JSON line each on stdout.
 */
@Command(name = "similar", mixinStandardHelpOptions = true,
        description = "List the voices most similar to VOICE_ID (cosine), one JSON line each.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:listed", "3:the voice has no completed embedding, or bad configuration",
                "1:a store is unreachable"})
final class SimilarCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    VerboseOption verbosity;

    @Parameters(paramLabel = "VOICE_ID")
    String voiceId;

    @Option(names = "--limit", paramLabel = "N", description = "Voices to list (default: ${DEFAULT-VALUE}).")
    int limit = 5;

    @Option(names = "--include-self", description = "Also list the voice itself.")
    boolean includeSelf;

    @Option(names = "--mode", paramLabel = "MODE", converter = SeModeConverter.class,
            description = "Compare only embeddings of this mode (get-se or extract-se; the two never mix); "
                    + "default: TIMBRE_SE_MODE, else get-se.")
    SeMode mode;

    @Override
    public Integer call() throws Exception {
        if (limit < 1 || limit > 1000) {
            throw new BadInputException("--limit must be within 1..1000, was " + limit);
        }
        Map<String, String> env = new HashMap<>(System.getenv());
        // Searching reads no audio: the upload bucket is irrelevant here but required by the shared config.
        env.putIfAbsent("TIMBRE_S3_BUCKET", "unused-by-similar");
        TimbreConfig config = TimbreConfig.fromEnv(env);
        SeMode seMode = mode != null ? mode : config.seMode();
        try (HikariDataSource ds = DatabasePool.open(config.dbUrl(), config.dbUser(),
                config.dbPassword().orElse(null), 2);
             EmbeddingStore store = EmbeddingStores.fromConfig(config, ds)) {
            List<Neighbour> nearest = new SimilarVoices(new JobQueries(ds), store)
                    .nearest(voiceId, limit, includeSelf, seMode)
                    .orElseThrow(() -> new BadInputException("voice " + voiceId + " has no completed " + seMode.id()
                            + " embedding in " + store.collection() + " (--mode chooses the mode)"));
            nearest.forEach(n -> {
                ObjectNode line = JSON.createObjectNode();
                line.put("voice_id", n.voiceId());
                line.put("score", n.score());
                line.put("job_id", n.jobId().toString());
                line.put("se_mode", seMode.id());
                spec.commandLine().getOut().println(line.toString());
            });
            spec.commandLine().getOut().flush();
        }
        return ExitCodes.OK;
    }
}
