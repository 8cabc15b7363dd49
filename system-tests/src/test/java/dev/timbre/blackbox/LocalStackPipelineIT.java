package dev.timbre.blackbox;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.containers.localstack.LocalStackContainer.Service;
import org.testcontainers.utility.DockerImageName;

/**
 * The same black-box pipeline against LocalStack (S3, SQS and Secrets Manager behind one {@code AWS_ENDPOINT_URL}),
 * with the database user and password read from a Secrets Manager secret ({@code TIMBRE_DB_SECRET_ARN}), as the
 * deployed function and worker get them. Needs a Docker engine; without one it is skipped, and says so in one line
 * on stdout (in the build output and the failsafe report), never silently.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalStackPipelineIT {

    /** Pinned: a LocalStack line whose community image runs S3, SQS and Secrets Manager without an account. */
    static final DockerImageName LOCALSTACK_IMAGE = DockerImageName.parse("localstack/localstack:3.8.1");

    private static LocalStackContainer localstack;
    private static AwsAccount aws;
    private static BlackBoxStack stack;
    private static Pipeline pipeline;
    private static Path scratch;
    private static boolean migrated;

    private static boolean docker;

    @BeforeAll
    static void start() throws IOException {
        docker = DockerClientFactory.instance().isDockerAvailable();
        if (!docker) {
            System.out.println("SKIPPED LocalStackPipelineIT: no Docker engine answers, so the black-box pipeline "
                    + "against LocalStack (S3, SQS, Secrets Manager) did not run; the run against ElasticMQ and "
                    + "S3Proxy (PipelineIT) did");
            return;
        }
        localstack = new LocalStackContainer(LOCALSTACK_IMAGE).withServices(Service.S3, Service.SQS,
                Service.SECRETSMANAGER);
        localstack.start();
        Path dir = Timbre.outputDir("localstack");
        scratch = Files.createDirectories(dir.resolve("audio"));
        aws = AwsAccount.singleEndpoint(localstack.getEndpoint(), localstack.getRegion(), localstack.getAccessKey(),
                localstack.getSecretKey());
        stack = BlackBoxStack.withSingleEndpoint(dir, aws);
        pipeline = new Pipeline(stack);
    }

    /** Each test, not the class, is skipped: the build's summary then counts them ("Skipped: 3"). */
    @BeforeEach
    void needsDocker() {
        assumeTrue(docker, "no Docker engine: the LocalStack pipeline is skipped");
    }

    @AfterAll
    static void stop() {
        try {
            if (stack != null) {
                pipeline.everyJobFinishedOrQueued();
            }
        } finally {
            if (stack != null) {
                stack.close();
            }
            if (aws != null) {
                aws.close();
            }
            if (localstack != null) {
                localstack.stop();
            }
        }
    }

    @Test
    @Order(1)
    void migrateWithTheDatabaseCredentialsFromSecretsManager() {
        pipeline.migrateCreatesTheSchemaOfANewDatabase();
        migrated = true;
    }

    @Test
    @Order(2)
    void submitWorkerStatusSimilarAndAPoisonMessage() {
        assumeTrue(migrated, "./timbre migrate failed (see migrateWithTheDatabaseCredentialsFromSecretsManager)");
        pipeline.submitWorkStatusSimilar(scratch);
    }

    @Test
    @Order(3)
    void sigtermOfTheWorkerWithABacklogLosesNothing() {
        assumeTrue(migrated, "./timbre migrate failed (see migrateWithTheDatabaseCredentialsFromSecretsManager)");
        pipeline.sigtermWithABacklogLosesNothing(scratch);
    }
}
