package dev.timbre.blackbox;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The black-box pipeline on one machine: {@code ./timbre migrate}, {@code submit}, {@code worker}, {@code status},
 * {@code similar}, SIGTERM of the worker and {@code events} (the completion events), as child processes against a database created for the run (not
 * migrated), ElasticMQ and S3Proxy each in its own JVM. In order, as a user meets them; each step needs the one
 * before. Output of every command and server is kept under {@code target/blackbox/} for a failure's post-mortem.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineIT {

    private static BlackBoxStack stack;
    private static Pipeline pipeline;
    private static Path scratch;
    /** The later steps need the schema: without it they are skipped (reported), not failed a second time. */
    private static boolean migrated;

    @BeforeAll
    static void start() throws IOException {
        Path dir = Timbre.outputDir("pipeline");
        scratch = Files.createDirectories(dir.resolve("audio"));
        stack = BlackBoxStack.withLocalServers(dir);
        pipeline = new Pipeline(stack);
        System.out.println("black-box: pipeline on database " + stack.dbName() + ", " + stack.aws().env().get(
                "AWS_ENDPOINT_URL_SQS") + " (ElasticMQ), " + stack.aws().env().get("AWS_ENDPOINT_URL_S3")
                + " (S3Proxy); output in " + dir.toAbsolutePath());
    }

    @AfterAll
    static void stop() {
        try {
            if (stack != null) {
                // whatever failed above, no job may be lost
                pipeline.everyJobFinishedOrQueued();
            }
        } finally {
            if (stack != null) {
                stack.close();
            }
        }
    }

    @Test
    @Order(1)
    void migrateCreatesTheSchemaOfANewDatabase() {
        pipeline.migrateCreatesTheSchemaOfANewDatabase();
        migrated = true;
    }

    @Test
    @Order(2)
    void submitWorkerStatusSimilarAndAPoisonMessage() {
        assumeTrue(migrated, "./timbre migrate failed (see migrateCreatesTheSchemaOfANewDatabase)");
        pipeline.submitWorkStatusSimilar(scratch);
    }

    @Test
    @Order(3)
    void sigtermOfTheWorkerWithABacklogLosesNothing() {
        assumeTrue(migrated, "./timbre migrate failed (see migrateCreatesTheSchemaOfANewDatabase)");
        pipeline.sigtermWithABacklogLosesNothing(scratch);
    }

    @Test
    @Order(4)
    void getSeAndExtractSeJobsAreEmbeddedAndSearchedApart() {
        assumeTrue(migrated, "./timbre migrate failed (see migrateCreatesTheSchemaOfANewDatabase)");
        pipeline.getSeAndExtractSeJobsAreEmbeddedAndSearchedApart();
    }

    @Test
    @Order(5)
    void everyFinishedJobYieldsItsEventAndNoOtherDoes() {
        assumeTrue(migrated, "./timbre migrate failed (see migrateCreatesTheSchemaOfANewDatabase)");
        pipeline.everyFinishedJobYieldsItsEventAndNoOtherDoes();
    }
}
